import Logging
import Store
import Synchronization

/// `litellm_settings.max_budget` (with `budget_duration`): one budget over every request the
/// gateway answers, whoever calls. Periods are aligned to the Unix epoch (a `30d` budget resets
/// every 30 days counted from 1970), so every replica and every restart agrees on where the
/// current one began without storing it. Its spend is the ledger's spend since then, read once,
/// plus what the ledger records after; `BudgetGuard` counts what it has not recorded yet.
final class ProxyBudget: Sendable {
    static let subjectID = "proxy"

    let maxBudget: Double
    /// Seconds; nil: one period for all time.
    let period: Double?

    private struct State {
        var periodStart: Double
        var spend: Double = 0
        var loaded = false
        /// A request is reading the ledger now: the others go on without waiting for it.
        var loading = false
    }

    private let state: Mutex<State>

    init(maxBudget: Double, period: Double?, now: Double) {
        self.maxBudget = maxBudget
        self.period = period
        state = Mutex(State(periodStart: Self.periodStart(now, period: period)))
    }

    static func periodStart(_ now: Double, period: Double?) -> Double {
        guard let period else { return 0 }
        return (now / period).rounded(.down) * period
    }

    /// The budget as a subject of `BudgetGuard`, with the spend of the period `now` falls in.
    func subject(now: Double) -> LimitSubject {
        let (spend, start) = state.withLock { state -> (Double, Double) in
            let start = Self.periodStart(now, period: period)
            if start > state.periodStart { (state.periodStart, state.spend) = (start, 0) }
            return (state.spend, state.periodStart)
        }
        return LimitSubject(
            id: Self.subjectID, kind: Self.subjectID, name: "", models: [], maxBudget: maxBudget, spend: spend,
            budgetPeriod: Int64(start))
    }

    /// Reads the ledger's spend in the current period, once: one request reads it while the
    /// others go on counting from what is known. Until it is read (and while the store cannot be
    /// read, retried by a later request) the budget counts from 0, logged.
    func loadOnce(from store: (any GatewayStore)?, logger: Logger) async {
        guard let store else { return }
        let start = state.withLock { state -> Double? in
            guard !state.loaded, !state.loading else { return nil }
            state.loading = true
            return state.periodStart
        }
        guard let start else { return }
        do {
            let totals = try await store.spendReport(by: .day, since: Int64(start * 1000), until: nil)
            let spent = totals.reduce(0) { $0 + $1.spend }
            state.withLock { state in
                state.loading = false
                guard state.periodStart == start else { return }
                state.spend += spent
                state.loaded = true
            }
        } catch {
            state.withLock { $0.loading = false }
            logger.warning("Could not read the spend for litellm_settings.max_budget; counting from 0: \(error)")
        }
    }

    /// A request's cost is in the ledger now.
    func recorded(_ cost: Double) {
        state.withLock { $0.spend += cost }
    }
}
