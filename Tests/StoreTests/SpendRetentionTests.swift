import Foundation
import GRDB
import Telemetry
import Testing

@testable import Store

/// `spend_logs_retention`: the ledger's writer deletes rows past retention after a batch, at most
/// once per interval, by an injected clock; the daily rollups stay.
@Suite(.timeLimit(.minutes(3))) struct SpendRetentionTests {
    static let day: Int64 = 86_400_000

    @Test(arguments: StoreBackend.all)
    func theWriterPrunesRowsPastRetentionOncePerInterval(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let now: Int64 = 1_764_496_800_000
            let clock = ManualClock(seconds: Double(now) / 1000)
            let store = test.store
            let ledger = SpendLedger(
                store: store, retention: SpendRetention(maxAgeSeconds: 30 * 86_400, interval: 3600, clock: clock))
            try await ledger.commit(spendRow("old", at: now - 31 * Self.day))
            try await ledger.commit(spendRow("edge", at: now - 30 * Self.day))
            try await ledger.commit(spendRow("new", at: now))
            await ledger.flush()
            #expect(Set(try await store.spendLogs(SpendQuery()).map(\.requestID)) == ["edge", "new"])

            // Within the interval nothing is pruned, even rows past retention.
            try await ledger.commit(spendRow("old-2", at: now - 40 * Self.day))
            await ledger.flush()
            #expect(Set(try await store.spendLogs(SpendQuery()).map(\.requestID)) == ["edge", "new", "old-2"])

            clock.advance(by: .seconds(3600))
            try await ledger.commit(spendRow("new-2", at: now + 3_600_000))
            await ledger.flush()
            // An hour later "edge" is past retention too.
            #expect(Set(try await store.spendLogs(SpendQuery()).map(\.requestID)) == ["new", "new-2"])
            let rollups = try await test.rollups()
            #expect(rollups.map(\.requests).reduce(0, +) == 5)
            #expect(rollups.count == 4)
        }
    }

    @Test(arguments: StoreBackend.all)
    func withoutRetentionEveryRowStays(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            let ledger = SpendLedger(store: store)
            try await ledger.commit(spendRow("ancient", at: 0))
            await ledger.flush()
            #expect(try await store.spendLogs(SpendQuery()).map(\.requestID) == ["ancient"])
        }
    }
}
