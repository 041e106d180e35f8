import Logging
import Sinks
import Store
import Synchronization
import Telemetry

/// Budgets as `/metrics` shows them, kept in memory and brought up to date as spend settles and
/// as the admin API changes budgets, so that a scrape reads no store (a scan of 1,000 budgeted
/// keys under the store's lock took 50–100 ms a scrape).
///
/// Only bounded, non-personal names leave: keys by alias (unaliased keys only count towards
/// `spanway_budgets_exhausted`), teams and organisations by alias or id, users never one by one.
public final class BudgetGauges: Sendable {
    struct Entry: Sendable, Equatable {
        var scope: String
        /// What the series is labelled with; nil keeps it out of the per-budget series.
        var name: String?
        /// Entries whose deletion deletes this one too (`team:<id>` for a team's key).
        var parents: [String]
        /// nil: known, but without a budget (so a request admitted earlier does not bring it back).
        var maxBudget: Double?
        var spend: Double
        var resetAt: Double?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Deleted subjects: a request still in flight for one must not bring its gauge back.
        var deleted: Set<String> = []
        var load = Load.notStarted
    }

    enum Load { case notStarted, loading, loaded }

    /// Most keys and users read from the store at start; the rest join as they settle or change.
    let loadPageSize: Int
    let loadPages: Int
    private let state = Mutex(State())

    public init(loadPageSize: Int = 1000, loadPages: Int = 10) {
        self.loadPageSize = loadPageSize
        self.loadPages = loadPages
    }

    // MARK: - Feeding

    /// A request of `principal` settled costing `cost` (what its ledger row charges). Call it
    /// before the row is committed: an entry read from the store after that would count it twice.
    public func settled(_ principal: Principal, cost: Double) {
        var records: [any BudgetedRecord] = []
        if let key = principal.key { records.append(key) }
        if let team = principal.team { records.append(team) }
        if let user = principal.user { records.append(user) }
        if let organization = principal.organization { records.append(organization) }
        guard !records.isEmpty else { return }
        state.withLock { state in
            for record in records { Self.track(record, adding: cost, in: &state) }
        }
    }

    /// A record as the authenticator just read it (after a lazy budget reset, say).
    func refreshed(_ record: some BudgetedRecord) {
        state.withLock { Self.track(record, adding: 0, in: &$0) }
    }

    /// A record the admin API created or changed: its budget, name and owners are taken as they
    /// are now; its spend is kept when known here (it includes requests not yet in the store).
    func changed(_ record: some BudgetedRecord) {
        state.withLock { state in
            let id = record.budgetID
            state.deleted.remove(id)
            // Without a budget, only an entry that had one needs to hear of it.
            guard record.limits.maxBudget != nil || state.entries[id] != nil else { return }
            var entry = state.entries[id] ?? Self.entry(record)
            entry.name = record.budgetName
            entry.parents = record.budgetParents
            entry.maxBudget = record.limits.maxBudget
            entry.resetAt = record.limits.budgetResetAt
            state.entries[id] = entry
        }
    }

    /// Records the admin API deleted (`kind` as in `LimitedRecord.kind`), with what the store
    /// deletes with them: a team's keys, a user's keys, an organisation's teams and their keys.
    func deleted(kind: String, ids: [String]) {
        state.withLock { state in
            var gone = Set(ids.map { "\(kind):\($0)" })
            var changed = true
            while changed {
                changed = false
                for (id, entry) in state.entries where gone.contains(id) || entry.parents.contains(where: gone.contains) {
                    state.entries[id] = nil
                    if gone.insert(id).inserted { changed = true }
                }
            }
            state.deleted.formUnion(gone)
        }
    }

    private static func track(_ record: some BudgetedRecord, adding cost: Double, in state: inout State) {
        let id = record.budgetID
        guard !state.deleted.contains(id) else { return }
        if var entry = state.entries[id] {
            // A newer period than ours: the record's spend is the period's so far.
            if let next = record.limits.budgetResetAt, next > entry.resetAt ?? -.infinity {
                entry.spend = record.limits.spend
                entry.resetAt = next
            }
            entry.spend += cost
            state.entries[id] = entry
        } else if record.limits.maxBudget != nil {
            // First seen: the record was read when the request was admitted, after every request
            // settled before it, and none settled since (it would have made the entry).
            var entry = entry(record)
            entry.spend += cost
            state.entries[id] = entry
        }
    }

    private static func entry(_ record: some BudgetedRecord) -> Entry {
        Entry(
            scope: type(of: record).kind, name: record.budgetName, parents: record.budgetParents,
            maxBudget: record.limits.maxBudget, spend: record.limits.spend, resetAt: record.limits.budgetResetAt)
    }

    /// Reads the store's budgets once (bounded), adding only subjects not already known here;
    /// later calls return at once. A failed load is tried again by the next call.
    func loadOnce(from store: any GatewayStore, logger: Logger) async {
        let start = state.withLock { state -> Bool in
            guard state.load == .notStarted else { return false }
            state.load = .loading
            return true
        }
        guard start else { return }
        do {
            var records: [any BudgetedRecord] = []
            var complete = true
            for page in 0..<loadPages {
                let (keys, total) = try await store.keys(
                    teamID: nil, userID: nil, limit: loadPageSize, offset: page * loadPageSize)
                records += keys.filter { $0.limits.maxBudget != nil } as [any BudgetedRecord]
                if (page + 1) * loadPageSize >= total { break }
                if page == loadPages - 1 { complete = false }
            }
            for page in 0..<loadPages {
                let (users, total) = try await store.users(limit: loadPageSize, offset: page * loadPageSize)
                records += users.filter { $0.limits.maxBudget != nil } as [any BudgetedRecord]
                if (page + 1) * loadPageSize >= total { break }
                if page == loadPages - 1 { complete = false }
            }
            records += try await store.teams().filter { $0.limits.maxBudget != nil } as [any BudgetedRecord]
            records += try await store.organizations().filter { $0.limits.maxBudget != nil } as [any BudgetedRecord]
            state.withLock { state in
                for record in records where state.entries[record.budgetID] == nil && !state.deleted.contains(record.budgetID) {
                    state.entries[record.budgetID] = Self.entry(record)
                }
                state.load = .loaded
            }
            if !complete {
                logger.warning(
                    "budget gauges: more keys or users than read at start; the rest appear once they spend or change",
                    metadata: ["read_per_kind": "\(loadPageSize * loadPages)"])
            }
        } catch {
            state.withLock { $0.load = .notStarted }
            logger.warning("budget gauges could not be read from the store", metadata: ["error": "\(type(of: error))"])
        }
    }

    // MARK: - Reading

    /// The per-budget series and the exhausted counts by scope. Two budgets with one name (two
    /// keys sharing an alias) show the one with less left.
    func figures() -> (budgets: [PrometheusSink.BudgetFigure], exhausted: [String: Int]) {
        struct Series: Hashable {
            var scope: String
            var name: String
        }
        let entries = state.withLock { Array($0.entries.values) }
        var exhausted = Dictionary(uniqueKeysWithValues: Self.scopes.map { ($0, 0) })
        var least: [Series: Double] = [:]
        for entry in entries {
            guard let max = entry.maxBudget else { continue }
            let remaining = max - entry.spend
            if remaining <= 0 { exhausted[entry.scope, default: 0] += 1 }
            guard let name = entry.name else { continue }
            let id = Series(scope: entry.scope, name: name)
            least[id] = min(least[id] ?? .infinity, remaining)
        }
        let budgets = least.map { PrometheusSink.BudgetFigure(scope: $0.key.scope, name: $0.key.name, remaining: $0.value) }
            .sorted { ($0.scope, $0.name) < ($1.scope, $1.name) }
        return (budgets, exhausted)
    }

    /// Each budgeted key and team one by one, for LiteLLM's series (`prometheus_names: [litellm]`),
    /// which label a key by its digest and alias and a team by its id and alias.
    public func litellmBudgets() -> [LiteLLMMetrics.Budget] {
        let entries = state.withLock { $0.entries }
        return entries.compactMap { id, entry -> LiteLLMMetrics.Budget? in
            guard let colon = id.firstIndex(of: ":") else { return nil }
            let recordID = String(id[id.index(after: colon)...])
            switch id[..<colon] {
            case "key":
                return LiteLLMMetrics.Budget(
                    scope: .key, id: recordID, alias: entry.name, maxBudget: entry.maxBudget, spend: entry.spend)
            case "team":
                // A team without an alias goes by its id in `name`.
                let alias = entry.name == recordID ? nil : entry.name
                return LiteLLMMetrics.Budget(
                    scope: .team, id: recordID, alias: alias, maxBudget: entry.maxBudget, spend: entry.spend)
            default: return nil
            }
        }
    }

    static let scopes = ["key", "team", "user", "organization"]

    /// The entry for tests: nil when not tracked.
    func entry(_ kind: String, _ id: String) -> Entry? {
        state.withLock { $0.entries["\(kind):\(id)"] }
    }
}

/// A record with a budget the gauges follow, and what it may be called in metrics.
protocol BudgetedRecord: LimitedRecord {
    /// The bounded, non-personal name for `/metrics`; nil for none.
    var budgetName: String? { get }
    var budgetParents: [String] { get }
}

extension BudgetedRecord {
    var budgetID: String { "\(Self.kind):\(recordID)" }
}

extension VirtualKey: BudgetedRecord {
    var budgetName: String? { keyAlias.flatMap { $0.isEmpty ? nil : $0 } }
    var budgetParents: [String] { [teamID.map { "team:\($0)" }, userID.map { "user:\($0)" }].compactMap { $0 } }
}

extension Team: BudgetedRecord {
    var budgetName: String? { teamAlias.flatMap { $0.isEmpty ? nil : $0 } ?? teamID }
    var budgetParents: [String] { organizationID.map { ["organization:\($0)"] } ?? [] }
}

extension User: BudgetedRecord {
    /// User ids are often email addresses: never a label.
    var budgetName: String? { nil }
    var budgetParents: [String] { [] }
}

extension Organization: BudgetedRecord {
    var budgetName: String? { organizationAlias.isEmpty ? organizationID : organizationAlias }
    var budgetParents: [String] { [] }
}
