import GRDB

/// A user: keys can belong to one; the user's limits bind each of them.
public struct User: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "users"

    public var userID: String
    public var userAlias: String?
    public var userEmail: String?
    public var userRole: String
    public var models: [String]
    public var maxBudget: Double?
    public var budgetDuration: String?
    public var budgetResetAt: Double?
    public var spend: Double
    public var tpmLimit: Int?
    public var rpmLimit: Int?
    public var maxParallelRequests: Int?
    public var metadata: String
    public var createdAt: Double

    public init(userID: String, createdAt: Double) {
        self.userID = userID
        self.userAlias = nil
        self.userEmail = nil
        self.userRole = "internal_user"
        self.models = []
        self.maxBudget = nil
        self.budgetDuration = nil
        self.budgetResetAt = nil
        self.spend = 0
        self.tpmLimit = nil
        self.rpmLimit = nil
        self.maxParallelRequests = nil
        self.metadata = "{}"
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case userAlias = "user_alias"
        case userEmail = "user_email"
        case userRole = "user_role"
        case models
        case maxBudget = "max_budget"
        case budgetDuration = "budget_duration"
        case budgetResetAt = "budget_reset_at"
        case spend
        case tpmLimit = "tpm_limit"
        case rpmLimit = "rpm_limit"
        case maxParallelRequests = "max_parallel_requests"
        case metadata
        case createdAt = "created_at"
    }
}
