import Foundation
import Logging
import PostgresNIO
import PostgresStore

/// A LiteLLM proxy database made for one test: a fresh schema holding LiteLLM's own tables, from
/// the Prisma migrations of litellm-proxy-extras 0.4.110 (the version litellm 1.108.7 pins; see
/// `Tests/Fixtures`), and rows written as LiteLLM writes them.
///
/// The schema lives in a database of its own: LiteLLM's migrations look their foreign keys up by
/// name in `pg_constraint`, which spans the whole database, so two LiteLLM schemas in one
/// database (tests running in parallel) would see each other's constraints and fail.
struct LiteLLMSourceDatabase {
    let server: PostgresURL
    let database: String
    let schema = "litellm"
    let connection: PostgresConnection
    static let logger = Logger(label: "litellm-source")

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/litellm-proxy-extras-0.4.110-schema.sql")

    /// `postgres://…/database?schema=litellm`: the URL LiteLLM's `DATABASE_URL` would be.
    var url: String {
        let password = server.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return
            "postgres://\(server.username)\(password)@\(server.host):\(server.port)/\(database)?sslmode=disable&schema=\(schema)"
    }

    static func create(base: String) async throws -> LiteLLMSourceDatabase {
        let server = try PostgresURL(base)
        let database = "litellm_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try await connect(server, database: server.database)
        do {
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(database)\""), logger: logger)
        } catch {
            try? await admin.close()
            throw error
        }
        try? await admin.close()
        let source = LiteLLMSourceDatabase(
            server: server, database: database, connection: try await connect(server, database: database))
        do {
            try await source.run("CREATE SCHEMA \"\(source.schema)\"; SET search_path TO \"\(source.schema)\"")
            try await source.run(try String(contentsOf: fixture, encoding: .utf8))
        } catch {
            await source.drop()
            throw error
        }
        return source
    }

    private static func connect(_ server: PostgresURL, database: String) async throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password,
            database: database, tls: .disable)
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// Runs a script, one statement at a time; a failure names the statement and the server's message.
    func run(_ script: String) async throws {
        for statement in SQLScript.statements(script) {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
            } catch let error as PSQLError {
                throw SetupFailure(
                    statement: String(statement.prefix(200)), message: error.serverInfo?[.message] ?? "\(error.code)")
            }
        }
    }

    struct SetupFailure: Error, CustomStringConvertible {
        var statement: String
        var message: String
        var description: String { "\(message) in: \(statement)" }
    }

    func drop() async {
        try? await connection.close()
        guard let admin = try? await Self.connect(server, database: server.database) else { return }
        _ = try? await admin.query(
            PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(database)\" WITH (FORCE)"), logger: Self.logger)
        try? await admin.close()
    }
}
