import Telemetry
import Testing

@testable import Store

/// Records from memory: read once, changed by every write made through the cache, and read
/// again once `lifetime` has passed (for writes by another process).
@Suite(.timeLimit(.minutes(3))) struct CachedStoreTests {
    static func store() throws -> (CountingStore, CachedStore, ManualClock) {
        let counting = CountingStore(try SQLiteStore(path: temporaryDatabasePath()))
        let clock = ManualClock(seconds: 1_700_000_000)
        return (counting, CachedStore(counting, clock: clock, lifetime: 2), clock)
    }

    @Test func aRecordIsReadOnceWithinItsLifetimeAndAgainAfter() async throws {
        let (counting, cached, clock) = try Self.store()
        try await counting.inner.insert(VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 0))
        for _ in 0..<5 { #expect(try await cached.fetch(VirtualKey.self, id: "k1")?.keyName == "sk-...k1") }
        #expect(counting.fetches.load(ordering: .relaxed) == 1)

        // Another process blocks the key; it is seen once the cached copy is 2 s old.
        var blocked = try #require(try await counting.inner.fetch(VirtualKey.self, id: "k1"))
        blocked.blocked = true
        try await counting.inner.update(blocked)
        clock.advance(by: .milliseconds(1900))
        #expect(try await cached.fetch(VirtualKey.self, id: "k1")?.blocked == false)
        clock.advance(by: .milliseconds(200))
        #expect(try await cached.fetch(VirtualKey.self, id: "k1")?.blocked == true)
    }

    @Test func unknownRecordsAreRememberedUntilOneIsInserted() async throws {
        let (counting, cached, _) = try Self.store()
        #expect(try await cached.fetch(VirtualKey.self, id: "nope") == nil)
        #expect(try await cached.fetch(VirtualKey.self, id: "nope") == nil)
        #expect(counting.fetches.load(ordering: .relaxed) == 1)
        try await cached.insert(VirtualKey(token: "nope", keyName: "sk-...nope", createdAt: 0))
        #expect(try await cached.fetch(VirtualKey.self, id: "nope")?.keyName == "sk-...nope")
    }

    @Test func writesThroughTheCacheAreReadBackAtOnce() async throws {
        let (_, cached, _) = try Self.store()
        try await cached.insert(Team(teamID: "t1", createdAt: 0))
        try await cached.insert(VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0))
        var key = try #require(try await cached.fetch(VirtualKey.self, id: "k1"))
        key.limits.maxBudget = 5
        try await cached.update(key)
        #expect(try await cached.fetch(VirtualKey.self, id: "k1")?.limits.maxBudget == 5)
        // Deleting the team takes its key with it.
        _ = try await cached.fetch(Team.self, id: "t1")
        #expect(try await cached.delete(Team.self, ids: ["t1"]) == 1)
        #expect(try await cached.fetch(VirtualKey.self, id: "k1") == nil)
        #expect(try await cached.fetch(Team.self, id: "t1") == nil)
    }

    /// Ledger batches add their spend to the cached key and team, so the next request reads the
    /// new spend without a database read; a reset budget is read again.
    @Test func spendIsAddedToCachedRecordsWithoutAReadAndResetsAreReadAgain() async throws {
        let (counting, cached, _) = try Self.store()
        try await counting.inner.insert(Team(teamID: "t1", createdAt: 0))
        var key = VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0)
        key.limits.budgetResetAt = 10
        try await counting.inner.insert(key)
        _ = try await cached.fetch(VirtualKey.self, id: "k1")
        _ = try await cached.fetch(Team.self, id: "t1")
        let reads = counting.fetches.load(ordering: .relaxed)

        try await cached.recordSpend([
            spendRow("r1", key: "k1", team: "t1", spend: 0.25), spendRow("r2", key: "k1", team: "t1", spend: 0.5),
        ])
        #expect(try await cached.fetch(VirtualKey.self, id: "k1")?.limits.spend == 0.75)
        #expect(try await cached.fetch(Team.self, id: "t1")?.limits.spend == 0.75)
        #expect(counting.fetches.load(ordering: .relaxed) == reads)
        // The store agrees.
        #expect(try await counting.inner.fetch(VirtualKey.self, id: "k1")?.limits.spend == 0.75)

        #expect(try await cached.resetBudget(of: .key, id: "k1", dueBy: 20, next: 100))
        #expect(try await cached.fetch(VirtualKey.self, id: "k1")?.limits.spend == 0)
        #expect(counting.fetches.load(ordering: .relaxed) == reads + 1)
    }
}
