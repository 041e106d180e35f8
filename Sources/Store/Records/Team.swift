import GRDB

/// A team: keys belong to it; its limits bind every one of its keys.
public struct Team: LimitedRecord {
    public static let databaseTableName = "teams"
    public static let owner = BudgetOwner.team

    public struct Member: Sendable, Equatable, Codable {
        public var userID: String
        public var role: String

        public init(userID: String, role: String) {
            self.userID = userID
            self.role = role
        }

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case role
        }
    }

    public var teamID: String
    public var teamAlias: String?
    public var organizationID: String?
    public var limits = Limits()
    /// Also holds the team's trace routing (`logging`, `default_sinks`, `capture_content`).
    public var metadata = "{}"
    public var blocked = false
    public var members: [Member] = []
    /// Model names the team's keys may use for model groups (LiteLLM's `model_aliases`); a key's
    /// own aliases come first.
    public var modelAliases: [String: String] = [:]
    public var createdAt: Double
    /// LiteLLM's fields Spanway keeps and shows back but does not act on, as a JSON object.
    public var litellmFields = "{}"

    public var recordID: String { teamID }

    public init(teamID: String, createdAt: Double) {
        self.teamID = teamID
        self.createdAt = createdAt
    }

    /// Every stored property but `limits`, which `LimitedRecord` reads and writes itself.
    enum CodingKeys: CodingKey {
        case teamID, teamAlias, organizationID, metadata, blocked, members, createdAt, litellmFields, modelAliases
    }
}
