import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Store
import Testing

/// The stores a gateway test can run on: the harness's SQLite file, or a fresh PostgreSQL schema
/// (`SPANWAY_TEST_DATABASE_URL`; under CI a missing server fails the test).
enum ModelStoreBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static let all: [ModelStoreBackend] = {
        let environment = ProcessInfo.processInfo.environment
        let configured = !(environment["SPANWAY_TEST_DATABASE_URL"] ?? "").isEmpty
        return configured || environment["CI"] != nil ? [.sqlite, .postgres] : [.sqlite]
    }()

    var testDescription: String { rawValue }

    /// Runs `body` with what `Harness.with` needs to put several gateways on one database.
    func withGatewayStore(
        _ body: (@escaping (SQLiteStore) -> any GatewayStore, SQLiteStore) async throws -> Void
    ) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-models-\(UUID().uuidString).db").path
        let sqlite = try SQLiteStore(path: path)
        switch self {
        case .sqlite:
            try await body({ $0 }, sqlite)
        case .postgres:
            let base = try #require(
                ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
                "CI is set but SPANWAY_TEST_DATABASE_URL is not: run scripts/test-services.sh")
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
            let postgres = try await PostgresStore.connect(url: url, logger: Logger(label: "test"))
            do {
                try await body({ _ in postgres }, sqlite)
            } catch {
                await Self.drop(postgres, schema: schema)
                throw error
            }
            await Self.drop(postgres, schema: schema)
        }
    }

    static func drop(_ store: PostgresStore, schema: String) async {
        _ = try? await store.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        await store.shutdown()
    }
}
