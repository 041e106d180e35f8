import Foundation
import GRDB

/// A virtual key as stored: its SHA-256 (`token`) and a display name, never the key itself.
public struct VirtualKey: LimitedRecord {
    public static let databaseTableName = "keys"
    public static let owner = BudgetOwner.key

    /// Hex SHA-256 of the key: the key's id everywhere (LiteLLM calls it `token`).
    public var token: String
    /// `sk-...wxyz`: enough to recognise a key, too little to use it.
    public var keyName: String
    public var keyAlias: String?
    public var teamID: String?
    public var userID: String?
    /// Per-key model aliases (`gpt-4` → `gpt-4o-mini`).
    public var aliases: [String: String]
    public var limits = Limits()
    /// Crossing this raises an alert; it refuses nothing.
    public var softBudget: Double?
    public var metadata: String
    /// Seconds since the epoch; nil never expires.
    public var expiresAt: Double?
    public var blocked: Bool
    public var createdAt: Double
    /// May start evaluation runs (`POST /spanway/evaluations`), charged to this key.
    public var allowEvaluations = false
    /// The key's own organisation (LiteLLM's `organization_id`): its limits bind the key when the
    /// key's team names none.
    public var organizationID: String?
    /// Added to the tags of every request made with the key.
    public var tags: [String] = []
    /// The routes the key may call (LiteLLM's `allowed_routes`); empty means the usual ones.
    public var allowedRoutes: [String] = []
    /// A temporary raise of `maxBudget` (LiteLLM's `temp_budget_increase`), in force until
    /// `tempBudgetExpiry` (seconds since the epoch).
    public var tempBudgetIncrease: Double?
    public var tempBudgetExpiry: Double?
    public var updatedAt: Double?
    /// LiteLLM's key fields Spanway keeps and shows back but does not act on, as a JSON object.
    public var litellmFields = "{}"
    /// The budget tier (`/budget/new`) whose limits bind the key where its own are unset.
    public var budgetID: String?

    public var recordID: String { token }

    public init(
        token: String, keyName: String, keyAlias: String? = nil, teamID: String? = nil, userID: String? = nil,
        aliases: [String: String] = [:], limits: Limits = Limits(), metadata: String = "{}", expiresAt: Double? = nil,
        blocked: Bool = false, createdAt: Double
    ) {
        self.token = token
        self.keyName = keyName
        self.keyAlias = keyAlias
        self.teamID = teamID
        self.userID = userID
        self.aliases = aliases
        self.limits = limits
        self.metadata = metadata
        self.expiresAt = expiresAt
        self.blocked = blocked
        self.createdAt = createdAt
    }

    /// Every stored property but `limits`, which `LimitedRecord` reads and writes itself.
    enum CodingKeys: CodingKey {
        case token, keyName, keyAlias, teamID, userID, aliases, softBudget, metadata, expiresAt, blocked, createdAt
        case allowEvaluations
        case organizationID, tags, allowedRoutes, tempBudgetIncrease, tempBudgetExpiry, updatedAt, litellmFields
        case budgetID
    }

    /// The display name of a raw key: its prefix family and last four characters.
    public static func displayName(of key: String) -> String {
        "sk-...\(key.suffix(4))"
    }

    public func isExpired(now: Double) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }

    /// `maxBudget` with the temporary increase added while it lasts.
    public func maxBudget(now: Double) -> Double? {
        guard let budget = limits.maxBudget, let increase = tempBudgetIncrease, let expiry = tempBudgetExpiry, now < expiry
        else { return limits.maxBudget }
        return budget + increase
    }
}
