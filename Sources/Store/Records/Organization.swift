import GRDB

/// An organisation: teams belong to one; its limits bind every key of those teams.
public struct Organization: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "organizations"

    public var organizationID: String
    public var organizationAlias: String
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

    public init(organizationID: String, organizationAlias: String, createdAt: Double) {
        self.organizationID = organizationID
        self.organizationAlias = organizationAlias
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
        case organizationID = "organization_id"
        case organizationAlias = "organization_alias"
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
