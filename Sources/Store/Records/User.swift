import GRDB

/// A user: keys can belong to one; the user's limits bind each of them.
public struct User: LimitedRecord {
    public static let databaseTableName = "users"
    public static let owner = BudgetOwner.user

    public var userID: String
    public var userAlias: String?
    public var userEmail: String?
    public var userRole = "internal_user"
    public var limits = Limits()
    public var metadata = "{}"
    public var createdAt: Double
    /// LiteLLM's fields Spanway keeps and shows back but does not act on, as a JSON object.
    public var litellmFields = "{}"

    public var recordID: String { userID }

    public init(userID: String, createdAt: Double) {
        self.userID = userID
        self.createdAt = createdAt
    }

    /// Every stored property but `limits`, which `LimitedRecord` reads and writes itself.
    enum CodingKeys: CodingKey {
        case userID, userAlias, userEmail, userRole, metadata, createdAt, litellmFields
    }
}
