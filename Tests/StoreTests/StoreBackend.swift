import Foundation
import GRDB
import Logging
import PostgresNIO
import PostgresStore
import Testing

@testable import Store

/// The stores the shared store tests run against. PostgreSQL joins when `SPANWAY_TEST_DATABASE_URL`
/// names a server; under CI (`CI` set) it always joins, so a missing server fails the tests
/// rather than skipping them.
enum StoreBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static let all: [StoreBackend] = {
        let environment = ProcessInfo.processInfo.environment
        let configured = !(environment["SPANWAY_TEST_DATABASE_URL"] ?? "").isEmpty
        return configured || environment["CI"] != nil ? [.sqlite, .postgres] : [.sqlite]
    }()

    var testDescription: String { rawValue }

    struct MissingServer: Error, CustomStringConvertible {
        var description: String { "CI is set but SPANWAY_TEST_DATABASE_URL is not: run scripts/test-services.sh" }
    }

    /// The server's URL with a fresh schema of its own (`?schema=`), so tests run in parallel.
    static func freshPostgresURL() throws -> String {
        let base = ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"] ?? ""
        guard !base.isEmpty else { throw MissingServer() }
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return base + (base.contains("?") ? "&" : "?") + "schema=" + schema
    }

    /// Runs `body` with a new, empty store, then closes it (and drops a PostgreSQL test schema).
    func withStore<T>(_ body: (TestStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(TestStore(store: try SQLiteStore(path: temporaryDatabasePath())))
        case .postgres:
            let store = try await PostgresStore.connect(url: try Self.freshPostgresURL(), logger: Logger(label: "test"))
            let result: Result<T, any Error>
            do {
                result = .success(try await body(TestStore(store: store)))
            } catch {
                result = .failure(error)
            }
            await TestStore.drop(store)
            return try result.get()
        }
    }
}
