import Foundation
import Logging
import PostgresNIO
import Testing

@testable import PostgresStore
@testable import Store

/// What only the PostgreSQL store has: migrations under an advisory lock, the batch insert, and
/// errors that never show the password. The behaviour both stores share is tested in the
/// store suites over `StoreBackend.all`.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: StoreBackend.all.contains(.postgres),
        "set SPANWAY_TEST_DATABASE_URL (scripts/test-services.sh starts a server) to test the PostgreSQL store"))
struct PostgresStoreTests {
    let logger = Logger(label: "test")

    /// Two replicas starting together: one applies every migration, the other waits on the lock
    /// and then finds them all recorded.
    @Test func migrationsRunOnceWhenTwoStoresConnectTogether() async throws {
        let url = try PostgresURL(try StoreBackend.freshPostgresURL())
        let first = try PostgresStore(url: url, logger: logger)
        let second = try PostgresStore(url: url, logger: logger)
        async let a = first.migrate()
        async let b = second.migrate()
        let applied = try await [a, b]
        let every = PostgresMigrations.all.map(\.version).sorted()
        #expect(applied.map { $0.sorted() }.sorted { $0.count < $1.count } == [[], every], "\(applied)")
        second.start()
        let rows = try await second.client.query("SELECT version, name FROM schema_migrations ORDER BY version")
        var recorded: [Int64] = []
        for try await (version, _) in rows.decode((Int64, String).self) { recorded.append(version) }
        #expect(recorded == every)
        // A third start applies nothing.
        #expect(try await PostgresStore(url: url, logger: logger).migrate() == [])
        await TestStore.drop(second)
    }

    /// Replaying a journal batch (the ledger retrying a commit it could not confirm) charges
    /// nothing twice; a request id twice in one batch counts once.
    @Test func theBatchInsertIsIdempotentOnReplay() async throws {
        try await StoreBackend.postgres.withStore { test in
            let store = test.store
            try await store.insert(VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 0))
            var team = Team(teamID: "t1", createdAt: 0)
            team.limits.maxBudget = 10
            try await store.insert(team)
            let batch = [spendRow("r1"), spendRow("r2"), spendRow("r3", spend: 0.25)]
            try await store.recordSpend(batch)
            try await store.recordSpend(batch)
            try await store.recordSpend([spendRow("r2"), spendRow("r4"), spendRow("r4")])
            #expect(Set(try await store.spendLogs(SpendQuery()).map(\.requestID)) == ["r1", "r2", "r3", "r4"])
            // 0.5 + 0.5 + 0.25 + 0.5, each once.
            #expect(try await store.fetch(VirtualKey.self, id: "k1")?.limits.spend == 1.75)
            #expect(try await store.fetch(Team.self, id: "t1")?.limits.spend == 1.75)
            #expect(
                try await test.rollups() == [
                    DailyRollup(
                        day: "2023-11-14", keyHash: "k1", teamID: "t1", modelGroup: "gpt-4o-mini", provider: "openai",
                        requests: 4, inputTokens: 40, outputTokens: 20, spend: 1.75)
                ])
        }
    }

    /// Every column, NULL or not, comes back as written; NaN latencies are stored as NULL.
    @Test func spendRowsRoundTripEveryColumn() async throws {
        try await StoreBackend.postgres.withStore { test in
            var full = SpendRow(
                requestID: "full", traceID: "t", startTime: 5, endTime: 9, keyHash: "k", keyAlias: "alias", teamID: "team",
                userID: "u", orgID: "o", operation: "embeddings", model: "m", modelGroup: "g", deploymentID: "d",
                provider: "p", inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheCreationTokens: 4,
                reasoningTokens: 5, spend: 0.125, statusCode: 429, errorType: "rate_limited", attempts: 3,
                fallbackDepth: 1, latencyMs: 12.5, upstreamLatencyMs: 10, overheadMs: 2.5, timeToFirstTokenMs: 4,
                tags: ["x", "y \"quoted\""], endUser: "end")
            full.usageEstimated = true
            full.evalRunID = "run"
            full.evalItemID = "item"
            var bare = SpendRow(requestID: "bare", traceID: "t2", startTime: 1, endTime: 2, operation: "chat", statusCode: 200)
            bare.latencyMs = .nan
            try await test.store.recordSpend([full, bare])
            var expectedBare = bare
            expectedBare.latencyMs = nil
            #expect(try await test.store.spendLogs(SpendQuery()) == [full, expectedBare])
        }
    }

    /// Every column of every table names exactly one stored property of its record, as in SQLite.
    @Test func everyColumnNamesAPropertyOfItsRecord() async throws {
        try await StoreBackend.postgres.withStore { test in
            let store = try #require(test.store as? PostgresStore)
            func properties(_ value: Any) -> Set<String> {
                Set(Mirror(reflecting: value).children.compactMap(\.label).filter { $0 != "limits" })
                    .union(Mirror(reflecting: Limits()).children.compactMap(\.label))
            }
            let records: [(table: String, properties: Set<String>)] = [
                ("keys", properties(VirtualKey(token: "", keyName: "", createdAt: 0))),
                ("teams", properties(Team(teamID: "", createdAt: 0))),
                ("users", properties(User(userID: "", createdAt: 0))),
                ("organizations", properties(Organization(organizationID: "", organizationAlias: "", createdAt: 0))),
                ("spend_logs", Set(Mirror(reflecting: spendRow("r")).children.compactMap(\.label))),
            ]
            for (table, expected) in records {
                var columns: [String] = []
                let rows = try await store.client.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(table)"
                )
                for try await name in rows.decode(String.self) { columns.append(name) }
                #expect(Set(columns.map(ColumnKey.property(forColumn:))) == expected, "\(table)")
                #expect(columns.count == expected.count, "\(table)")
            }
        }
    }

    @Test func duplicateIdsAndMissingRecordsAreErrors() async throws {
        try await StoreBackend.postgres.withStore { test in
            let key = VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 0)
            try await test.store.insert(key)
            await #expect(throws: PostgresStoreError.duplicate(table: "keys", id: "k1")) { try await test.store.insert(key) }
            await #expect(throws: PostgresStoreError.notFound(table: "teams", id: "nope")) {
                try await test.store.update(Team(teamID: "nope", createdAt: 0))
            }
        }
    }

    /// An unreachable server, a database that does not exist and malformed URLs: each says what is
    /// wrong and where, and none repeats the password.
    @Test func connectionErrorsAreClearAndNeverShowThePassword() async throws {
        let secret = "s3cret-Pa55word"
        let base = try PostgresURL(ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"] ?? "")
        let cases: [(url: String, says: String)] = [
            ("postgres://ada:\(secret)@127.0.0.1:1/db?sslmode=disable", "cannot connect to PostgreSQL at ada@127.0.0.1:1/db"),
            (
                "postgres://\(base.username):\(secret)@\(base.host):\(base.port)/no_such_database_here?sslmode=disable",
                "no_such_database_here\" does not exist"
            ),
            ("mysql://ada:\(secret)@db/x", "must start with postgres://"),
            ("postgres://\(secret)-host/db", "must name a user"),
            ("postgres://ada:\(secret)@db:99999/x", "port"),
            ("postgres://ada:\(secret)@db/x?sslmode=sometimes", "sslmode"),
        ]
        for (url, says) in cases {
            do {
                let store = try await PostgresStore.connect(url: url, logger: logger)
                await store.shutdown()
                Issue.record("connected with \(says)")
            } catch {
                let text = "\(error)"
                #expect(text.contains(says), "\(text)")
                #expect(!text.contains(secret), "\(text)")
            }
        }
    }
}
