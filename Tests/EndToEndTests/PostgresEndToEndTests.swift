import Foundation
import Logging
import PostgresNIO
import PostgresStore
import Store
import Testing

@testable import Proxy

/// A gateway whose `DATABASE_URL` names PostgreSQL answers, and its spend row is in PostgreSQL,
/// where another replica's store reads it. Needs `SPANWAY_TEST_DATABASE_URL`; under CI a missing
/// one fails the test.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: !(ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"] ?? "").isEmpty
            || ProcessInfo.processInfo.environment["CI"] != nil,
        "set SPANWAY_TEST_DATABASE_URL (scripts/test-services.sh starts a server) to test the gateway on PostgreSQL"))
struct PostgresEndToEndTests {
    @Test func aGatewayOnPostgreSQLAnswersAndItsSpendRowIsInPostgreSQL() async throws {
        // Without the journal the answer waits for its row's PostgreSQL transaction.
        try await Self.withGatewayOnPostgreSQL { h, replica in
            let reply = try await h.chat("gpt-4o-mini")
            #expect(reply.status == 200)
            let id = try #require(reply.headers.first(name: "x-spanway-request-id"))
            let cost = try #require(reply.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            let row = try #require(try await replica.spendLogs(SpendQuery()).first { $0.requestID == id })
            #expect(row.modelGroup == "gpt-4o-mini" && row.provider == "openai" && row.statusCode == 200)
            #expect(abs(row.spend - cost) < 1e-12)
            #expect(row.inputTokens == reply.json?["usage"]?["prompt_tokens"]?.intValue)
        }
    }

    /// A gateway whose `DATABASE_URL` names a fresh schema of the test server, with no spend
    /// journal (each answer waits for its row), and a second store on the same schema, as another
    /// replica would read it. The schema is dropped afterwards.
    static func withGatewayOnPostgreSQL(_ body: (Harness, PostgresStore) async throws -> Void) async throws {
        let base = try #require(
            ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
            "CI is set but SPANWAY_TEST_DATABASE_URL is not: run scripts/test-services.sh")
        let schema = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        let opened = try await GatewayBootstrap.openStore(environment: ["DATABASE_URL": url])
        let store = try #require(opened as? PostgresStore, "DATABASE_URL=postgres://… must open the PostgreSQL store")
        let replica = try await PostgresStore.connect(url: url, logger: Logger(label: "e2e"))
        do {
            try await Harness.with(config: e2eConfig, wrapStore: { _ in store }, journal: false) { h in
                try await body(h, replica)
            }
        } catch {
            await Self.close(store, replica, schema: schema)
            throw error
        }
        await Self.close(store, replica, schema: schema)
    }

    static func close(_ store: PostgresStore, _ replica: PostgresStore, schema: String) async {
        _ = try? await replica.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        await replica.shutdown()
        await store.shutdown()
    }
}
