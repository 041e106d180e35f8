import GRDB

/// An organisation: teams belong to one; its limits bind every key of those teams.
public struct Organization: LimitedRecord {
    public static let databaseTableName = "organizations"
    public static let owner = BudgetOwner.organization

    public var organizationID: String
    public var organizationAlias: String
    public var limits = Limits()
    public var metadata = "{}"
    public var createdAt: Double
    /// LiteLLM's fields Spanway keeps and shows back but does not act on, as a JSON object.
    public var litellmFields = "{}"
    /// The budget tier whose limits bind the organisation where its own are unset (LiteLLM keeps
    /// an organisation's limits there).
    public var budgetID: String?

    public var recordID: String { organizationID }

    public init(organizationID: String, organizationAlias: String, createdAt: Double) {
        self.organizationID = organizationID
        self.organizationAlias = organizationAlias
        self.createdAt = createdAt
    }

    /// Every stored property but `limits`, which `LimitedRecord` reads and writes itself.
    enum CodingKeys: CodingKey {
        case organizationID, organizationAlias, metadata, createdAt, litellmFields
        case budgetID
    }
}
