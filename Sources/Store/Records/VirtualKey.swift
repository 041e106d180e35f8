import Foundation
import GRDB

/// A virtual key as stored: its SHA-256 (`token`) and a display name, never the key itself.
public struct VirtualKey: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "keys"

    /// Hex SHA-256 of the key: the key's id everywhere (LiteLLM calls it `token`).
    public var token: String
    /// `sk-...wxyz`: enough to recognise a key, too little to use it.
    public var keyName: String
    public var keyAlias: String?
    public var teamID: String?
    public var userID: String?
    /// Model groups this key may call; empty means all.
    public var models: [String]
    /// Per-key model aliases (`gpt-4` → `gpt-4o-mini`).
    public var aliases: [String: String]
    public var maxBudget: Double?
    /// Crossing this raises an alert; it refuses nothing.
    public var softBudget: Double?
    public var budgetDuration: String?
    /// When `spend` next returns to 0 (seconds since the epoch), for keys with a `budgetDuration`.
    public var budgetResetAt: Double?
    public var spend: Double
    public var tpmLimit: Int?
    public var rpmLimit: Int?
    public var maxParallelRequests: Int?
    /// Caller-defined JSON object, stored as text.
    public var metadata: String
    /// Seconds since the epoch; nil never expires.
    public var expiresAt: Double?
    public var blocked: Bool
    public var createdAt: Double

    public init(
        token: String, keyName: String, keyAlias: String? = nil, teamID: String? = nil, userID: String? = nil,
        models: [String] = [], aliases: [String: String] = [:], maxBudget: Double? = nil, budgetDuration: String? = nil,
        budgetResetAt: Double? = nil,
        spend: Double = 0, tpmLimit: Int? = nil, rpmLimit: Int? = nil, maxParallelRequests: Int? = nil,
        metadata: String = "{}", expiresAt: Double? = nil, blocked: Bool = false, createdAt: Double
    ) {
        self.token = token
        self.keyName = keyName
        self.keyAlias = keyAlias
        self.teamID = teamID
        self.userID = userID
        self.models = models
        self.aliases = aliases
        self.maxBudget = maxBudget
        self.softBudget = nil
        self.budgetDuration = budgetDuration
        self.budgetResetAt = budgetResetAt
        self.spend = spend
        self.tpmLimit = tpmLimit
        self.rpmLimit = rpmLimit
        self.maxParallelRequests = maxParallelRequests
        self.metadata = metadata
        self.expiresAt = expiresAt
        self.blocked = blocked
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case token
        case keyName = "key_name"
        case keyAlias = "key_alias"
        case teamID = "team_id"
        case userID = "user_id"
        case models, aliases
        case maxBudget = "max_budget"
        case softBudget = "soft_budget"
        case budgetDuration = "budget_duration"
        case budgetResetAt = "budget_reset_at"
        case spend
        case tpmLimit = "tpm_limit"
        case rpmLimit = "rpm_limit"
        case maxParallelRequests = "max_parallel_requests"
        case metadata
        case expiresAt = "expires_at"
        case blocked
        case createdAt = "created_at"
    }

    /// The display name of a raw key: its prefix family and last four characters.
    public static func displayName(of key: String) -> String {
        "sk-...\(key.suffix(4))"
    }

    public func isExpired(now: Double) -> Bool {
        expiresAt.map { $0 <= now } ?? false
    }
}
