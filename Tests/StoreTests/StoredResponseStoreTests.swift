import Logging
import PostgresNIO
import PostgresStore
import Testing

@testable import Store

/// Responses API answers kept for `previous_response_id`, `GET` and `DELETE`: both stores keep,
/// expire, scope and replace them alike, and databases from before the table gain it.
@Suite(.timeLimit(.minutes(3))) struct StoredResponseStoreTests {
    static func record(
        _ id: String, owner: String = "key:abc", body: String = #"{"id":"resp_1","output":[]}"#, at created: Double = 100,
        expires: Double = 1000
    ) -> StoredResponseRecord {
        StoredResponseRecord(id: id, owner: owner, body: body, createdAt: created, expiresAt: expires)
    }

    @Test(arguments: StoreBackend.all) func aSavedResponseReadsBackUntilItExpires(_ backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            #expect(try await store.storedResponse(id: "resp_1", now: 0) == nil)
            let saved = Self.record("resp_1", body: #"{"id":"resp_1","output":[{"type":"message","text":"héllo"}]}"#)
            try await store.saveResponse(saved)
            #expect(try await store.storedResponse(id: "resp_1", now: 100) == saved)
            #expect(try await store.storedResponse(id: "resp_1", now: 999.5) == saved)
            // Expired from `expiresAt` on, though the row is still there until swept.
            #expect(try await store.storedResponse(id: "resp_1", now: 1000) == nil)
            #expect(try await store.storedResponse(id: "resp_1", now: 5000) == nil)
            #expect(try await store.storedResponse(id: "resp_other", now: 100) == nil)
        }
    }

    @Test(arguments: StoreBackend.all) func onlyItsOwnerOrAnyoneUnscopedDeletesAResponse(
        _ backend: StoreBackend
    ) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.saveResponse(Self.record("resp_a", owner: "key:abc"))
            try await store.saveResponse(Self.record("resp_b", owner: "master"))

            #expect(try await !store.deleteResponse(id: "resp_a", owner: "key:other"))
            #expect(try await !store.deleteResponse(id: "resp_a", owner: "master"))
            #expect(try await store.storedResponse(id: "resp_a", now: 100) != nil)
            #expect(try await store.deleteResponse(id: "resp_a", owner: "key:abc"))
            #expect(try await store.storedResponse(id: "resp_a", now: 100) == nil)
            #expect(try await !store.deleteResponse(id: "resp_a", owner: "key:abc"))

            #expect(try await store.deleteResponse(id: "resp_b", owner: nil))
            #expect(try await store.storedResponse(id: "resp_b", now: 100) == nil)
            #expect(try await !store.deleteResponse(id: "resp_b", owner: nil))
            #expect(try await !store.deleteResponse(id: "resp_missing", owner: nil))
        }
    }

    @Test(arguments: StoreBackend.all) func savingAnIdAgainReplacesIt(_ backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.saveResponse(Self.record("resp_1", owner: "open", body: #"{"v":1}"#, at: 100, expires: 200))
            let replacement = Self.record("resp_1", owner: "key:abc", body: #"{"v":2}"#, at: 150, expires: 900)
            try await store.saveResponse(replacement)
            #expect(try await store.storedResponse(id: "resp_1", now: 500) == replacement)
            #expect(try await !store.deleteResponse(id: "resp_1", owner: "open"))
            #expect(try await store.deleteExpiredResponses(now: 500) == 0)
        }
    }

    @Test(arguments: StoreBackend.all) func sweepingRemovesOnlyExpiredResponses(_ backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            #expect(try await store.deleteExpiredResponses(now: 10_000) == 0)
            try await store.saveResponse(Self.record("resp_old", expires: 100))
            try await store.saveResponse(Self.record("resp_due", expires: 200))
            let kept = Self.record("resp_kept", expires: 300)
            try await store.saveResponse(kept)

            #expect(try await store.deleteExpiredResponses(now: 200) == 2)
            #expect(try await store.deleteExpiredResponses(now: 200) == 0)
            #expect(try await store.storedResponse(id: "resp_kept", now: 200) == kept)
            // Gone, not merely hidden: reading at an earlier time finds nothing either.
            #expect(try await store.storedResponse(id: "resp_old", now: 0) == nil)
            #expect(try await store.storedResponse(id: "resp_due", now: 0) == nil)
        }
    }

    /// The cache keeps no responses: every call reaches the store under it.
    @Test func theCacheForwardsResponsesToItsStore() async throws {
        let sqlite = try SQLiteStore(path: temporaryDatabasePath())
        let cached = CachedStore(sqlite)
        let saved = Self.record("resp_1", expires: 300)
        try await cached.saveResponse(saved)
        #expect(try await sqlite.storedResponse(id: "resp_1", now: 100) == saved)
        try await sqlite.saveResponse(Self.record("resp_2", owner: "master", expires: 50))
        #expect(try await cached.storedResponse(id: "resp_2", now: 10)?.owner == "master")
        #expect(try await cached.deleteExpiredResponses(now: 100) == 1)
        #expect(try await cached.deleteResponse(id: "resp_1", owner: "key:abc"))
        #expect(try await sqlite.storedResponse(id: "resp_1", now: 100) == nil)
    }

    /// A SQLite database the previous release (schema v12, models) left gains the table and its index.
    @Test func aSQLiteDatabaseFromTheReleaseBeforeGainsTheTable() async throws {
        let previous = OlderDatabaseTests.releasedMigrations.count - 1
        let path = try OlderDatabaseTests.database(atVersion: previous)
        let store = try SQLiteStore(path: path)
        let schema = try await StoreSchema.read(store)
        #expect(schema.migrations.last == "v13: Responses API answers")
        #expect(schema.objects.contains { $0.contains(#"CREATE INDEX "responses_on_expires_at""#) })
        let saved = Self.record("resp_1")
        try await store.saveResponse(saved)
        #expect(try await store.storedResponse(id: "resp_1", now: 100) == saved)
        #expect(try await store.deleteExpiredResponses(now: 1000) == 1)
    }
}

/// The PostgreSQL side of the upgrade: a schema at migration 4 (models) gains migration 5.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: StoreBackend.all.contains(.postgres),
        "set SPANWAY_TEST_DATABASE_URL (scripts/test-services.sh starts a server) to test the PostgreSQL store"))
struct PostgresStoredResponseMigrationTests {
    @Test func aPostgresSchemaFromTheReleaseBeforeGainsTheTable() async throws {
        try await StoreBackend.postgres.withStore { test in
            let store = try #require(test.store as? PostgresStore)
            // Back to the previous release's schema: migration 5 undone and unrecorded.
            _ = try await store.client.query(PostgresQuery(unsafeSQL: "DROP TABLE responses"))
            _ = try await store.client.query(PostgresQuery(unsafeSQL: "DELETE FROM schema_migrations WHERE version = 5"))
            #expect(try await store.migrate() == [5])

            let rows = try await store.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'responses'
                        ORDER BY indexname
                        """))
            var indexes: [String] = []
            for try await name in rows.decode(String.self) { indexes.append(name) }
            #expect(indexes == ["responses_on_expires_at", "responses_pkey"])

            let saved = StoredResponseStoreTests.record("resp_1")
            try await store.saveResponse(saved)
            #expect(try await store.storedResponse(id: "resp_1", now: 100) == saved)
        }
    }
}
