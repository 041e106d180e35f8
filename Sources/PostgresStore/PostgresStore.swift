import GRDB
import Logging
import PostgresNIO
import ServiceLifecycle
import Store
import Synchronization

/// The shared store for several gateway replicas: PostgreSQL through a pooled `PostgresClient`.
/// Same tables, columns and answers as `SQLiteStore`; money stays `double precision` because the
/// SQLite store keeps it as a DOUBLE and both must agree on every total.
///
/// The client leases no connection until its run loop runs: `connect(url:logger:)` starts it in a
/// task this store owns (stop it with `shutdown()`); a store made with `init(url:logger:)` is a
/// `Service` to run in a `ServiceGroup` instead.
public final class PostgresStore: GatewayStore, Service {
    /// For queries the protocol does not cover (tests, diagnostics).
    public let client: PostgresClient
    public let url: PostgresURL
    let logger: Logger
    private let runTask = Mutex<Task<Void, Never>?>(nil)

    /// A store whose client is not running yet: call `migrate()` and `run()` (or use `connect`).
    public init(url: PostgresURL, logger: Logger) throws(PostgresStoreError) {
        self.url = url
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: try Self.clientTLS(url.sslMode))
        configuration.options.additionalStartupParameters = Self.startupParameters(url)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Parses `url`, applies the migrations the database lacks and starts the client's run loop.
    /// Errors name the server (`user@host:port/database`), never the password.
    public static func connect(url text: String, logger: Logger) async throws -> PostgresStore {
        let store = try PostgresStore(url: try PostgresURL(text), logger: logger)
        try await store.migrate()
        store.start()
        // The first lease waits for the run loop the task above starts; waiting here, quietly,
        // keeps postgres-nio's "run() hasn't been called yet" warning out of the first request.
        var quiet = logger
        quiet.logLevel = .error
        do {
            try await store.client.query("SELECT 1", logger: quiet)
        } catch {
            await store.shutdown()
            throw PostgresStoreError.connect("cannot query PostgreSQL at \(store.url): \(PostgresFailure.describe(error))")
        }
        return store
    }

    /// Runs the client until the task is cancelled (`ServiceGroup` shutdown).
    public func run() async throws {
        await client.run()
    }

    /// Stops the run loop `connect` started and waits for the connections to close.
    public func shutdown() async {
        let task = runTask.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    func start() {
        runTask.withLock { task in
            guard task == nil else { return }
            let client = self.client
            task = Task { await client.run() }
        }
    }

    /// Applies the migrations on a connection of its own, which holds the advisory lock; returns
    /// the versions it applied (none when another replica got there first).
    @discardableResult
    public func migrate() async throws -> [Int64] {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: try Self.connectionTLS(url.sslMode))
        configuration.options.additionalStartupParameters = Self.startupParameters(url)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw PostgresStoreError.connect("cannot connect to PostgreSQL at \(url): \(PostgresFailure.describe(error))")
        }
        do {
            let applied = try await PostgresMigrations.apply(on: connection, schema: url.schema, logger: logger)
            try? await connection.close()
            return applied
        } catch let error as PostgresStoreError {
            try? await connection.close()
            throw error
        } catch {
            try? await connection.close()
            throw PostgresStoreError.migration("cannot migrate PostgreSQL at \(url): \(PostgresFailure.describe(error))")
        }
    }

    private static func startupParameters(_ url: PostgresURL) -> [(String, String)] {
        var parameters = [("application_name", "spanway")]
        if let schema = url.schema { parameters.append(("search_path", schema)) }
        return parameters
    }

    /// libpq's meaning of each mode: `prefer` and `require` encrypt without checking the
    /// certificate (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION),
    /// `verify-full` checks it and the host name.
    private static func tlsConfiguration(_ mode: PostgresURL.SSLMode) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if mode != .verifyFull { tls.certificateVerification = .none }
        return tls
    }

    private static func clientTLS(_ mode: PostgresURL.SSLMode) throws(PostgresStoreError) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration(mode))
        case .require, .verifyFull: .require(tlsConfiguration(mode))
        }
    }

    private static func connectionTLS(_ mode: PostgresURL.SSLMode) throws(PostgresStoreError)
        -> PostgresConnection.Configuration.TLS
    {
        guard mode != .disable else { return .disable }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tlsConfiguration(mode))
        } catch {
            throw .connect("cannot set up TLS for PostgreSQL: \(error)")
        }
        return mode == .prefer ? .prefer(context) : .require(context)
    }

    // MARK: Records

    public func insert<Record: LimitedRecord>(_ record: Record) async throws {
        let table = Record.owner.table
        let values = try RecordColumns.values(of: record)
        var bindings = PostgresBindings(capacity: values.count)
        for (column, value) in values { RecordColumns.append(value, column: column, to: &bindings) }
        let columns = values.map { RecordColumns.quoted($0.column) }.joined(separator: ", ")
        let placeholders = values.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        // The primary key is the only unique constraint, so a skipped insert is a duplicate id.
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table.name) (\(columns)) VALUES (\(placeholders))
                    ON CONFLICT (\(table.key)) DO NOTHING RETURNING 1
                    """, binds: bindings), logger: logger)
        guard try await rows.collect().count == 1 else {
            throw PostgresStoreError.duplicate(table: table.name, id: record.recordID)
        }
    }

    public func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        let table = Record.owner.table
        let rows = try await client.query(
            "SELECT * FROM \(unescaped: table.name) WHERE \(unescaped: table.key) = \(id)", logger: logger)
        for try await row in rows { return try RecordColumns.record(Record.self, from: row) }
        return nil
    }

    public func update<Record: LimitedRecord>(_ record: Record) async throws {
        let table = Record.owner.table
        let values = try RecordColumns.values(of: record).filter { $0.column != table.key }
        var bindings = PostgresBindings(capacity: values.count + 1)
        bindings.append(record.recordID)
        for (column, value) in values { RecordColumns.append(value, column: column, to: &bindings) }
        let assignments = values.enumerated().map { "\(RecordColumns.quoted($1.column)) = $\($0 + 2)" }
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE \(table.name) SET \(assignments.joined(separator: ", ")) WHERE \(table.key) = $1 RETURNING 1
                    """, binds: bindings), logger: logger)
        guard try await rows.collect().count == 1 else {
            throw PostgresStoreError.notFound(table: table.name, id: record.recordID)
        }
    }

    public func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        let table = Record.owner.table
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            switch Record.owner {
            case .key, .endUser: break
            // Records linked to a deleted tier lose the link (LiteLLM's optional relation: SET NULL).
            case .budget:
                for table in ["keys", "organizations", "end_users"] {
                    try await connection.query(
                        "UPDATE \(unescaped: table) SET budget_id = NULL WHERE budget_id = ANY(\(ids))", logger: logger)
                }
            case .user: try await connection.query("DELETE FROM keys WHERE user_id = ANY(\(ids))", logger: logger)
            case .team: try await connection.query("DELETE FROM keys WHERE team_id = ANY(\(ids))", logger: logger)
            case .organization:
                try await connection.query(
                    """
                    WITH gone AS (DELETE FROM teams WHERE organization_id = ANY(\(ids)) RETURNING team_id)
                    DELETE FROM keys WHERE team_id IN (SELECT team_id FROM gone)
                    """, logger: logger)
            }
            let rows = try await connection.query(
                """
                WITH gone AS (DELETE FROM \(unescaped: table.name) WHERE \(unescaped: table.key) = ANY(\(ids)) RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger)
            return try await Self.single(Int.self, rows)
        }
    }

    public func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        let filter: PostgresQuery =
            "WHERE (\(teamID)::text IS NULL OR team_id = \(teamID)) AND (\(userID)::text IS NULL OR user_id = \(userID))"
        let total = try await Self.single(
            Int.self,
            client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM keys " + filter.sql, binds: filter.binds), logger: logger)
        )
        var page = filter
        page.sql += " ORDER BY created_at, token COLLATE \"C\" LIMIT \(Self.limitSQL(limit)) OFFSET \(max(0, offset))"
        let keys = try await records(
            VirtualKey.self, PostgresQuery(unsafeSQL: "SELECT * FROM keys " + page.sql, binds: page.binds))
        return (keys, total)
    }

    public func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        let total = try await Self.single(Int.self, client.query("SELECT count(*) FROM users", logger: logger))
        let users = try await records(
            User.self,
            PostgresQuery(
                unsafeSQL: """
                    SELECT * FROM users ORDER BY created_at, user_id COLLATE "C" \
                    LIMIT \(Self.limitSQL(limit)) OFFSET \(max(0, offset))
                    """))
        return (users, total)
    }

    public func teams() async throws -> [Team] {
        try await records(Team.self, #"SELECT * FROM teams ORDER BY created_at, team_id COLLATE "C""#)
    }

    public func organizations() async throws -> [Organization] {
        try await records(Organization.self, #"SELECT * FROM organizations ORDER BY created_at, organization_id COLLATE "C""#)
    }

    public func all<Record: LimitedRecord>(_ type: Record.Type) async throws -> [Record] {
        let table = Record.owner.table
        return try await records(
            Record.self,
            PostgresQuery(unsafeSQL: "SELECT * FROM \(table.name) ORDER BY created_at, \(table.key) COLLATE \"C\""))
    }

    public func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        let table = owner.table
        // A record without a reset time of its own has its period started, its spend kept.
        let rows = try await client.query(
            """
            UPDATE \(unescaped: table.name)
            SET spend = CASE WHEN budget_reset_at IS NULL THEN spend ELSE 0 END, budget_reset_at = \(next)
            WHERE \(unescaped: table.key) = \(id) AND (budget_reset_at IS NULL OR budget_reset_at <= \(now)) RETURNING 1
            """, logger: logger)
        return try await rows.collect().count > 0
    }

    // MARK: Helpers

    /// SQLite reads a negative LIMIT as "no limit"; PostgreSQL reads `LIMIT ALL` so.
    static func limitSQL(_ limit: Int) -> String {
        limit < 0 ? "ALL" : String(limit)
    }

    func records<Record: FetchableRecord>(_ type: Record.Type, _ query: PostgresQuery) async throws -> [Record] {
        var records: [Record] = []
        for try await row in try await client.query(query, logger: logger) {
            records.append(try RecordColumns.record(Record.self, from: row))
        }
        return records
    }

    static func single<Value: PostgresDecodable & Sendable>(_ type: Value.Type, _ rows: PostgresRowSequence) async throws -> Value
    {
        for try await value in rows.decode(Value.self) { return value }
        throw PostgresStoreError.unexpected("PostgreSQL returned no row where one was expected")
    }
}
