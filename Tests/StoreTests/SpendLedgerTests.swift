import Synchronization
import Testing

@testable import Store

/// Counts spend transactions and record reads, to show that concurrent commits share them, and fails them while
/// `failing` is set (a full disk, a lost database).
final class CountingStore: GatewayStore {
    struct WriteFailure: Error {}
    let inner: any GatewayStore
    let transactions = Atomic<Int>(0)
    let fetches = Atomic<Int>(0)
    let failing: Atomic<Bool>

    init(_ inner: any GatewayStore, failing: Bool = false) {
        self.inner = inner
        self.failing = Atomic(failing)
    }

    func recordSpend(_ rows: [SpendRow]) async throws {
        transactions.add(1, ordering: .relaxed)
        if failing.load(ordering: .relaxed) { throw WriteFailure() }
        try await inner.recordSpend(rows)
    }

    func insert<Record: LimitedRecord>(_ record: Record) async throws { try await inner.insert(record) }
    func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        fetches.add(1, ordering: .relaxed)
        return try await inner.fetch(type, id: id)
    }
    func update<Record: LimitedRecord>(_ record: Record) async throws { try await inner.update(record) }
    func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        try await inner.delete(type, ids: ids)
    }
    func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        try await inner.keys(teamID: teamID, userID: userID, limit: limit, offset: offset)
    }
    func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        try await inner.users(limit: limit, offset: offset)
    }
    func teams() async throws -> [Team] { try await inner.teams() }
    func organizations() async throws -> [Organization] { try await inner.organizations() }
    func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] { try await inner.spendLogs(query) }
    func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        try await inner.resetBudget(of: owner, id: id, dueBy: now, next: next)
    }
    func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        try await inner.spendReport(by: grouping, since: since, until: until)
    }
    func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult { try await inner.analytics(query) }
    func pruneSpendLogs(before: Int64) async throws -> Int { try await inner.pruneSpendLogs(before: before) }
}

@Suite(.timeLimit(.minutes(3))) struct SpendLedgerTests {
    @Test(arguments: StoreBackend.all)
    func concurrentCommitsAllLandInSharedTransactions(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = CountingStore(test.store)
            let ledger = SpendLedger(store: store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 { group.addTask { try await ledger.commit(spendRow("r\(i)")) } }
                try await group.waitForAll()
            }
            #expect(try await store.spendLogs(SpendQuery(limit: 1000)).count == 200)
            let transactions = store.transactions.load(ordering: .relaxed)
            #expect(transactions >= 1 && transactions < 200, "\(transactions) transactions for 200 rows")
        }
    }

    /// Every commit waiting on a failed transaction hears of the failure (none hangs, none is told
    /// its row is durable), and the ledger writes again once the store does.
    @Test(arguments: StoreBackend.all)
    func aFailedWriteIsReportedToEveryWaiterAndTheLedgerRecovers(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = CountingStore(test.store, failing: true)
            let ledger = SpendLedger(store: store)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        do {
                            try await ledger.commit(spendRow("lost-\(i)"))
                            return true
                        } catch {
                            return !(error is CountingStore.WriteFailure)
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.count == 50 && outcomes.allSatisfy { !$0 }, "every waiter must see the write failure")
            #expect(store.transactions.load(ordering: .relaxed) >= 1)
            #expect(try await store.spendLogs(SpendQuery()).isEmpty)

            store.failing.store(false, ordering: .relaxed)
            try await ledger.commit(spendRow("kept"))
            #expect(try await store.spendLogs(SpendQuery()).map(\.requestID) == ["kept"])
        }
    }
}
