/// Why the PostgreSQL store failed. Messages name the server as `user@host:port/database` and
/// never carry the password.
public enum PostgresStoreError: Error, CustomStringConvertible, Equatable {
    /// The `DATABASE_URL` is not a PostgreSQL URL this store understands.
    case badURL(String)
    /// The server could not be reached or refused the login.
    case connect(String)
    /// A schema migration failed; the database is left at the last migration that committed.
    case migration(String)
    /// An insert named an id that is already stored.
    case duplicate(table: String, id: String)
    /// An update named an id that is not stored.
    case notFound(table: String, id: String)
    /// The server answered in a shape the store does not expect.
    case unexpected(String)

    public var description: String {
        switch self {
        case .badURL(let reason), .connect(let reason), .migration(let reason), .unexpected(let reason): reason
        case .duplicate(let table, let id): "a row with id '\(id)' already exists in \(table)"
        case .notFound(let table, let id): "no row with id '\(id)' exists in \(table)"
        }
    }
}
