import Synchronization
import Telemetry

/// The store as the request path reads it: keys, teams, users and organisations come from
/// memory, so authenticating a virtual key costs no database read. Every write made through
/// this store drops the records it touches (a ledger batch adds its rows' spend to them), so this
/// process always reads what it wrote. Writes by another process on the same database are seen
/// when it says so (`invalidate`, which replicas sharing Redis do), or else within `lifetime`
/// (`spanway keys`).
public final class CachedStore: GatewayStore {
    /// Told of every write made through this store, spend aside, before the write returns.
    public typealias WriteObserver = @Sendable (StoreChange) async -> Void

    private struct Slot: Hashable {
        var owner: BudgetOwner
        var id: String
    }

    private struct Entry {
        /// Nil when the store has no such record (unknown keys are asked for too).
        var record: (any LimitedRecord)?
        var loadedAt: Double
    }

    private struct State {
        var entries: [Slot: Entry] = [:]
        /// Bumped by every drop: a read that started before one must not fill the cache with what
        /// it read, which may be older than the write that caused the drop.
        var generation = 0
    }

    /// Past this many records the cache starts over (a flood of unknown keys must not grow it).
    static let capacity = 50_000

    public let base: any GatewayStore
    let clock: any GatewayClock
    let lifetime: Double
    private let state = Mutex(State())
    private let observer = Mutex<WriteObserver?>(nil)
    /// Told of model changes, including other replicas' (`invalidate`), and of `.all` (which may
    /// hide one): the gateway's model list is kept outside this cache and reloads on them.
    private let invalidationObserver = Mutex<(@Sendable (StoreChange) -> Void)?>(nil)

    public init(_ base: any GatewayStore, clock: any GatewayClock = SystemClock(), lifetime: Double = 2) {
        self.base = base
        self.clock = clock
        self.lifetime = lifetime
    }

    public func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        let slot = Slot(owner: Record.owner, id: id)
        let now = clock.nowSeconds()
        let (cached, generation) = state.withLock { state in
            (state.entries[slot].flatMap { now - $0.loadedAt < lifetime ? $0 : nil }, state.generation)
        }
        if let cached { return cached.record as? Record }
        let record = try await base.fetch(type, id: id)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= Self.capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[slot] = Entry(record: record, loadedAt: now)
        }
        return record
    }

    /// Calls `observer` after each write; one observer at a time.
    public func observeWrites(_ observer: @escaping WriteObserver) {
        self.observer.withLock { $0 = observer }
    }

    /// Calls `observer` on `.models` and `.all`, for this process's writes and other replicas'.
    public func observeInvalidations(_ observer: @escaping @Sendable (StoreChange) -> Void) {
        invalidationObserver.withLock { $0 = observer }
    }

    /// Drops what another process changed, so the next read goes to the database.
    public func invalidate(_ change: StoreChange) {
        switch change {
        case .record(let owner, let id): drop([Slot(owner: owner, id: id)])
        case .all: dropAll()
        case .models: break
        }
        if change != .models && change != .all { return }
        if let observer = invalidationObserver.withLock({ $0 }) { observer(change) }
    }

    private func changed(_ change: StoreChange) async {
        invalidate(change)
        if let observer = observer.withLock({ $0 }) { await observer(change) }
    }

    private func dropAll() {
        state.withLock { state in
            state.generation += 1
            state.entries.removeAll()
        }
    }

    private func drop(_ slots: some Sequence<Slot>) {
        state.withLock { state in
            state.generation += 1
            for slot in slots { state.entries[slot] = nil }
        }
    }

    /// A failed write is dropped too: it may have reached the database before failing.
    public func insert<Record: LimitedRecord>(_ record: Record) async throws {
        do {
            try await base.insert(record)
        } catch {
            invalidate(.record(Record.owner, id: record.recordID))
            throw error
        }
        await changed(.record(Record.owner, id: record.recordID))
    }

    public func update<Record: LimitedRecord>(_ record: Record) async throws {
        do {
            try await base.update(record)
        } catch {
            invalidate(.record(Record.owner, id: record.recordID))
            throw error
        }
        await changed(.record(Record.owner, id: record.recordID))
    }

    public func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        let deleted: Int
        do {
            deleted = try await base.delete(type, ids: ids)
        } catch {
            dropAll()
            throw error
        }
        await changed(.all)
        return deleted
    }

    public func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        let reset: Bool
        do {
            reset = try await base.resetBudget(of: owner, id: id, dueBy: now, next: next)
        } catch {
            invalidate(.record(owner, id: id))
            throw error
        }
        if reset { await changed(.record(owner, id: id)) } else { invalidate(.record(owner, id: id)) }
        return reset
    }

    /// The rows' spend is added to the cached records as the store adds it to theirs, so a key in
    /// steady use is not read again after every ledger batch.
    public func recordSpend(_ rows: [SpendRow]) async throws {
        try await base.recordSpend(rows)
        state.withLock { state in
            state.generation += 1
            for row in rows where row.spend > 0 {
                for (owner, id) in row.budgetOwners {
                    let slot = Slot(owner: owner, id: id)
                    guard var record = state.entries[slot]?.record else {
                        // An end user the store had no row for has one now (its spend made it).
                        if owner == .endUser { state.entries[slot] = nil }
                        continue
                    }
                    record.limits.spend += row.spend
                    state.entries[slot]?.record = record
                }
            }
        }
    }

    public func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        try await base.keys(teamID: teamID, userID: userID, limit: limit, offset: offset)
    }

    public func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        try await base.users(limit: limit, offset: offset)
    }

    public func teams() async throws -> [Team] { try await base.teams() }
    public func organizations() async throws -> [Organization] { try await base.organizations() }
    public func all<Record: LimitedRecord>(_ type: Record.Type) async throws -> [Record] { try await base.all(type) }
    public func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] { try await base.spendLogs(query) }
    public func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        try await base.spendReport(by: grouping, since: since, until: until)
    }
    public func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult { try await base.analytics(query) }
    public func teamMemberSpend(teamID: String) async throws -> [String: Double] {
        try await base.teamMemberSpend(teamID: teamID)
    }
    public func pruneSpendLogs(before: Int64) async throws -> Int { try await base.pruneSpendLogs(before: before) }

    /// Models are not cached here (the gateway holds them); a write is published like a record's.
    public func storedModels() async throws -> [StoredModel] { try await base.storedModels() }

    public func saveModel(_ model: StoredModel) async throws {
        do {
            try await base.saveModel(model)
        } catch {
            invalidate(.models)
            throw error
        }
        await changed(.models)
    }

    public func insertModel(_ model: StoredModel) async throws -> Bool {
        let inserted: Bool
        do {
            inserted = try await base.insertModel(model)
        } catch {
            invalidate(.models)
            throw error
        }
        if inserted { await changed(.models) }
        return inserted
    }

    public func deleteModel(id: String) async throws -> Bool {
        let deleted: Bool
        do {
            deleted = try await base.deleteModel(id: id)
        } catch {
            invalidate(.models)
            throw error
        }
        await changed(.models)
        return deleted
    }

    /// Responses are not cached (each is read about once, by the request that continues it).
    public func saveResponse(_ record: StoredResponseRecord) async throws { try await base.saveResponse(record) }
    public func storedResponse(id: String, now: Double) async throws -> StoredResponseRecord? {
        try await base.storedResponse(id: id, now: now)
    }
    public func deleteResponse(id: String, owner: String?) async throws -> Bool {
        try await base.deleteResponse(id: id, owner: owner)
    }
    public func deleteExpiredResponses(now: Double) async throws -> Int {
        try await base.deleteExpiredResponses(now: now)
    }
}
