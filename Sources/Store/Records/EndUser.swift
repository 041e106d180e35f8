import GRDB

/// An end user (LiteLLM's `LiteLLM_EndUserTable`, its "customers"): whoever a request names in
/// its `user` field (or LiteLLM's end-user headers). As in LiteLLM its budget and limits live in
/// the budget tier it links to (`budgetID`); its own row counts its spend and may block it or
/// narrow its models. A request from an end user the store has no row for makes one when its
/// cost is recorded, as LiteLLM's spend tracking does.
public struct EndUser: LimitedRecord {
    public static let databaseTableName = "end_users"
    public static let owner = BudgetOwner.endUser

    public var userID: String
    public var alias: String?
    /// Refuses every request naming this end user.
    public var blocked = false
    /// `eu` or `us`; kept and shown (Spanway's deployments carry no region).
    public var allowedModelRegion: String?
    public var defaultModel: String?
    public var budgetID: String?
    /// Only `models`, `spend` and `budget_reset_at` are the end user's own; the rest stay unset
    /// (LiteLLM keeps them in the tier) unless a store written otherwise sets them.
    public var limits = Limits()
    public var metadata = "{}"
    public var createdAt: Double

    public var recordID: String { userID }

    public init(userID: String, createdAt: Double) {
        self.userID = userID
        self.createdAt = createdAt
    }

    /// Every stored property but `limits`, which `LimitedRecord` reads and writes itself.
    enum CodingKeys: CodingKey {
        case userID, alias, blocked, allowedModelRegion, defaultModel, budgetID, metadata, createdAt
    }
}
