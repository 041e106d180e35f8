import Store
import Synchronization

/// A store whose spend writes fail (a full disk, a lost database) while everything else works,
/// until `recover()`: for checking that the gateway still answers, and says so, when the ledger
/// cannot be written, and loses nothing it journaled.
public final class SpendRefusingStore: GatewayStore {
    public struct RefusedWrite: Error {}

    private let base: any GatewayStore
    private let refused = Atomic<Int>(0)
    private let refusing = Atomic<Bool>(true)

    public init(wrapping base: any GatewayStore) {
        self.base = base
    }

    /// Spend writes attempted (and refused) so far.
    public var refusedWrites: Int { refused.load(ordering: .relaxed) }

    /// Spend writes succeed from now on.
    public func recover() { refusing.store(false, ordering: .relaxed) }

    public func recordSpend(_ rows: [SpendRow]) async throws {
        guard refusing.load(ordering: .relaxed) else { return try await base.recordSpend(rows) }
        refused.add(1, ordering: .relaxed)
        throw RefusedWrite()
    }

    public func insert<Record: LimitedRecord>(_ record: Record) async throws { try await base.insert(record) }
    public func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        try await base.fetch(type, id: id)
    }
    public func update<Record: LimitedRecord>(_ record: Record) async throws { try await base.update(record) }
    public func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        try await base.delete(type, ids: ids)
    }
    public func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        try await base.keys(teamID: teamID, userID: userID, limit: limit, offset: offset)
    }
    public func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        try await base.users(limit: limit, offset: offset)
    }
    public func teams() async throws -> [Team] { try await base.teams() }
    public func organizations() async throws -> [Organization] { try await base.organizations() }
    public func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] { try await base.spendLogs(query) }
    public func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        try await base.resetBudget(of: owner, id: id, dueBy: now, next: next)
    }
    public func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        try await base.spendReport(by: grouping, since: since, until: until)
    }
    public func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult { try await base.analytics(query) }
    public func pruneSpendLogs(before: Int64) async throws -> Int { try await base.pruneSpendLogs(before: before) }
}
