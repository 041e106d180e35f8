import Store
import Synchronization
import Telemetry

/// Stage 2 (budgets): a request is refused once its key's (or team's) spend in the store, plus
/// what is not in the store yet, reaches that budget. What is not in the store yet: the estimate
/// reserved by each request in flight, and the real cost of each settled request until the
/// ledger has written its row. So concurrent requests can overspend by at most what was in
/// flight when the budget ran out, and by nothing when the estimates hold.
public final class BudgetGuard: Sendable {
    public struct Reservation: Sendable {
        let subjects: [String]
        let amount: Double
    }

    private struct State {
        /// Per subject: estimates in flight plus settled costs not yet in the store.
        var unrecorded: [String: Double] = [:]
        /// Settled requests whose rows the ledger has not written yet, by request id.
        var settled: [String: (subjects: [String], cost: Double)] = [:]

        mutating func add(_ amount: Double, to subjects: [String]) {
            for id in subjects {
                let total = unrecorded[id, default: 0] + amount
                unrecorded[id] = abs(total) > 1e-15 ? total : nil
            }
        }
    }

    /// Output tokens assumed when a request sets no limit and the model's is unknown.
    static let defaultOutputTokens = 4096

    private let state = Mutex(State())

    public init() {}

    /// Reserves `estimate` against every subject's budget, or refuses with 400 `budget_exceeded`
    /// naming the first subject that has none left.
    func reserve(_ subjects: [LimitSubject], estimate: Double) throws(GatewayError) -> Reservation? {
        let budgeted = subjects.filter { $0.maxBudget != nil }
        guard !budgeted.isEmpty else { return nil }
        let exhausted = state.withLock { state -> LimitSubject? in
            if let spent = Self.firstSpent(budgeted, unrecorded: state.unrecorded) { return spent }
            state.add(estimate, to: budgeted.map(\.id))
            return nil
        }
        if let exhausted { throw Self.refusal(exhausted) }
        return Reservation(subjects: budgeted.map(\.id), amount: estimate)
    }

    /// Refuses a caller whose budget is already spent, before the gateway reads or parses its
    /// request: a spent key must not be able to make the gateway do expensive work.
    func refuseIfSpent(_ subjects: [LimitSubject]) throws(GatewayError) {
        let budgeted = subjects.filter { $0.maxBudget != nil }
        guard !budgeted.isEmpty else { return }
        if let exhausted = state.withLock({ Self.firstSpent(budgeted, unrecorded: $0.unrecorded) }) {
            throw Self.refusal(exhausted)
        }
    }

    private static func firstSpent(_ budgeted: [LimitSubject], unrecorded: [String: Double]) -> LimitSubject? {
        budgeted.first { $0.spend + unrecorded[$0.id, default: 0] >= $0.maxBudget ?? .infinity }
    }

    private static func refusal(_ exhausted: LimitSubject) -> GatewayError {
        GatewayError(.budgetExceeded, "This \(exhausted.kind) has reached its budget of \(exhausted.maxBudget ?? 0) USD.")
    }

    /// Drops a reservation whose request will have no ledger row.
    func release(_ reservation: Reservation) {
        state.withLock { $0.add(-reservation.amount, to: reservation.subjects) }
    }

    /// Replaces a settled request's estimate with its real cost, counted until `recorded` hears
    /// that its row is in the store (from where the store's spend counts it).
    func settle(_ reservation: Reservation, cost: Double, requestID: String) {
        state.withLock { state in
            state.add(cost - reservation.amount, to: reservation.subjects)
            state.settled[requestID] = (reservation.subjects, cost)
        }
    }

    /// The ledger wrote these requests' rows: their costs are in the store's spend now.
    public func recorded(_ requestIDs: some Sequence<String>) {
        state.withLock { state in
            for id in requestIDs {
                guard let settled = state.settled.removeValue(forKey: id) else { continue }
                state.add(-settled.cost, to: settled.subjects)
            }
        }
    }

    /// A cost no lower than the request's: its body as input tokens (a token is rarely under four
    /// bytes), its output limit (or the model's, or 4096) as output, at the dearest deployment.
    static func estimate(_ request: OpenAIRequest, bodyBytes: Int, prices: [ModelPrice]) -> Double {
        guard !prices.isEmpty else { return 0 }
        let input = Double(bodyBytes) / 4
        let limit = (request.body["max_completion_tokens"] ?? request.body["max_tokens"])?.intValue
        return prices.map { price in
            let output = Double(limit ?? price.maxOutputTokens ?? defaultOutputTokens)
            return input * price.inputCostPerToken + output * price.outputCostPerToken
        }.max() ?? 0
    }
}
