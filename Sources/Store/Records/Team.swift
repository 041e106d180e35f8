import GRDB

/// A team: keys belong to it; its limits bind every one of its keys.
public struct Team: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "teams"

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
    public var models: [String]
    public var maxBudget: Double?
    public var budgetDuration: String?
    public var budgetResetAt: Double?
    public var spend: Double
    public var tpmLimit: Int?
    public var rpmLimit: Int?
    public var maxParallelRequests: Int?
    public var metadata: String
    public var blocked: Bool
    public var members: [Member]
    public var createdAt: Double

    public init(teamID: String, createdAt: Double) {
        self.teamID = teamID
        self.teamAlias = nil
        self.organizationID = nil
        self.models = []
        self.maxBudget = nil
        self.budgetDuration = nil
        self.budgetResetAt = nil
        self.spend = 0
        self.tpmLimit = nil
        self.rpmLimit = nil
        self.maxParallelRequests = nil
        self.metadata = "{}"
        self.blocked = false
        self.members = []
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id"
        case teamAlias = "team_alias"
        case organizationID = "organization_id"
        case models
        case maxBudget = "max_budget"
        case budgetDuration = "budget_duration"
        case budgetResetAt = "budget_reset_at"
        case spend
        case tpmLimit = "tpm_limit"
        case rpmLimit = "rpm_limit"
        case maxParallelRequests = "max_parallel_requests"
        case metadata, blocked, members
        case createdAt = "created_at"
    }
}
