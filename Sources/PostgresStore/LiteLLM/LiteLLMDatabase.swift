import Logging
import PostgresNIO
import Telemetry

/// A LiteLLM proxy's PostgreSQL database, read only, on one connection inside one read-only
/// repeatable-read transaction: every table is read from the same snapshot, so an import taken
/// while LiteLLM still serves traffic sees a key's spend and its daily rows agree.
///
/// Each row comes back as a JSON object (`to_jsonb`), so one decoder reads every table and
/// whatever columns this LiteLLM version has; Prisma's names are quoted and case-sensitive.
public final class LiteLLMDatabase: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    public let url: PostgresURL

    private init(connection: PostgresConnection, url: PostgresURL, logger: Logger) {
        self.connection = connection
        self.url = url
        self.logger = logger
    }

    /// Connects to `postgres://…` (`?schema=` as in LiteLLM's `DATABASE_URL`) and opens the
    /// snapshot. Errors name `user@host:port/database`, never the password.
    public static func connect(url text: String, logger: Logger) async throws -> LiteLLMDatabase {
        let url = try PostgresURL(text)
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: try tls(url.sslMode))
        var parameters = [("application_name", "spanway-import")]
        if let schema = url.schema { parameters.append(("search_path", schema)) }
        configuration.options.additionalStartupParameters = parameters
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw PostgresStoreError.connect(
                "cannot connect to the LiteLLM database at \(url): \(PostgresFailure.describe(error))")
        }
        let database = LiteLLMDatabase(connection: connection, url: url, logger: logger)
        do {
            try await connection.query("START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
        } catch {
            await database.close()
            throw PostgresStoreError.connect("cannot read the LiteLLM database at \(url): \(PostgresFailure.describe(error))")
        }
        return database
    }

    /// Ends the snapshot and the connection.
    public func close() async {
        _ = try? await connection.query("ROLLBACK", logger: logger)
        try? await connection.close()
    }

    /// The tables of the schema LiteLLM's tables are looked up in (the search path's first).
    public func tables() async throws -> Set<String> {
        var names = Set<String>()
        let rows = try await connection.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()", logger: logger)
        for try await name in rows.decode(String.self) { names.insert(name) }
        return names
    }

    /// Every row of `table` (a LiteLLM table name from this module's closed list, never input).
    public func rows(of table: String) async throws -> [JSONObject] {
        var objects: [JSONObject] = []
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT to_jsonb(t)::text FROM \(Self.quoted(table)) t"), logger: logger)
        for try await text in rows.decode(String.self) {
            // Metadata and spend maps can be large; the parser's request-sized defaults are not for them.
            guard case .object(let object) = try JSONParser.parse(Array(text.utf8), limits: Self.rowLimits) else {
                throw PostgresStoreError.unexpected("a row of \(table) did not read as a JSON object")
            }
            objects.append(object)
        }
        return objects
    }

    public func count(of table: String) async throws -> Int {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(Self.quoted(table))"), logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    static let rowLimits = JSONParser.Limits(maxElements: 8_000_000, maxStringBytes: 256 * 1024 * 1024)

    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// libpq's meaning of each mode, as the store's own connections use it.
    private static func tls(_ mode: PostgresURL.SSLMode) throws -> PostgresConnection.Configuration.TLS {
        guard mode != .disable else { return .disable }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if mode != .verifyFull { configuration.certificateVerification = .none }
        let context = try NIOSSLContext(configuration: configuration)
        return mode == .prefer ? .prefer(context) : .require(context)
    }
}
