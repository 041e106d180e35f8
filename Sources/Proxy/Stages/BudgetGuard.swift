import Store
import Synchronization
import Telemetry

/// Stage 2 (budgets): a request is refused once its key's (or team's) spend in the store, plus
/// what is not in the store yet, reaches that budget. What is not in the store yet: the estimate
/// reserved by each request in flight, and the real cost of each settled request until the
/// ledger has written its row. So concurrent requests can overspend by at most what was in
/// flight when the budget ran out, and by nothing when the estimates hold. With Redis, the same
/// is checked across every replica (`SharedBudgets`) once this process's own check passes.
public final class BudgetGuard: Sendable {
    public struct Reservation: Sendable {
        let subjects: [String]
        let amount: Double
        /// The hold's id in the shared budgets; nil when only this process holds the estimate.
        var sharedHold: String? = nil
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
    /// The status of a refusal: LiteLLM's 422 unless `budget_exceeded_status_code` says otherwise.
    let refusalStatus: Int
    /// `litellm_settings.max_budget`, when set.
    let proxyBudget: ProxyBudget?
    /// The budgets every replica shares, when Redis is configured.
    let shared: SharedBudgets?
    /// Keys' per-model budgets (`model_max_budget`), shared through the same Redis.
    let modelBudgets: ModelBudgets

    init(refusalStatus: Int = 422, proxyBudget: ProxyBudget? = nil, shared: SharedBudgets? = nil) {
        self.refusalStatus = refusalStatus
        self.proxyBudget = proxyBudget
        self.shared = shared
        modelBudgets = ModelBudgets(client: shared?.client, health: shared?.health)
    }

    /// Reserves in this process, then in the shared budgets when there are any. Redis
    /// unreachable: this process's check alone (fail-open) or 503 (fail-closed).
    func reserve(_ subjects: [LimitSubject], estimate: Double, hold id: String) async throws(GatewayError) -> Reservation? {
        guard var reservation = try reserve(subjects, estimate: estimate) else { return nil }
        guard let shared else { return reservation }
        let budgeted = subjects.filter { $0.maxBudget != nil }
        switch await shared.reserve(budgeted, estimate: estimate, hold: id) {
        case .held:
            reservation.sharedHold = id
            return reservation
        case .refused(let index, let spent):
            release(reservation)
            throw refusal(budgeted[index], spent: spent)
        case .unavailable where shared.health.failureMode == .failClosed:
            release(reservation)
            throw SharedStateHealth.unavailable("Budgets")
        case .unavailable:
            return reservation
        }
    }

    /// Moves a shared hold into the shared spend as the request's cost, before its answer is released.
    func settleShared(_ reservation: Reservation, cost: Double) async {
        guard let hold = reservation.sharedHold, let shared else { return }
        await shared.settle(reservation.subjects, hold: hold, cost: cost)
    }

    /// Reserves `estimate` against every subject's budget, or refuses with `budget_exceeded`
    /// naming the first subject that has none left.
    func reserve(_ subjects: [LimitSubject], estimate: Double) throws(GatewayError) -> Reservation? {
        let budgeted = subjects.filter { $0.maxBudget != nil }
        guard !budgeted.isEmpty else { return nil }
        let exhausted = state.withLock { state -> LimitSubject? in
            if let spent = Self.firstSpent(budgeted, unrecorded: state.unrecorded) { return spent }
            state.add(estimate, to: budgeted.map(\.id))
            return nil
        }
        if let exhausted { throw refusal(exhausted) }
        return Reservation(subjects: budgeted.map(\.id), amount: estimate)
    }

    /// Refuses a caller whose budget is already spent, before the gateway reads or parses its
    /// request: a spent key must not be able to make the gateway do expensive work.
    func refuseIfSpent(_ subjects: [LimitSubject]) throws(GatewayError) {
        let budgeted = subjects.filter { $0.maxBudget != nil }
        guard !budgeted.isEmpty else { return }
        if let exhausted = state.withLock({ Self.firstSpent(budgeted, unrecorded: $0.unrecorded) }) {
            throw refusal(exhausted)
        }
    }

    /// A record's budget is spent when its spend reaches it; the proxy's, as in LiteLLM, once
    /// spend goes past it.
    private static func firstSpent(_ budgeted: [LimitSubject], unrecorded: [String: Double]) -> LimitSubject? {
        budgeted.first { subject in
            let spent = subject.spend + unrecorded[subject.id, default: 0]
            let budget = subject.maxBudget ?? .infinity
            return subject.id == ProxyBudget.subjectID ? spent > budget : spent >= budget
        }
    }

    /// LiteLLM's words for each kind of budget, so scripts that read them keep working.
    private func refusal(_ exhausted: LimitSubject, spent: Double? = nil) -> GatewayError {
        let spent = spent ?? exhausted.spend + state.withLock { $0.unrecorded[exhausted.id, default: 0] }
        let budget = exhausted.maxBudget ?? 0
        let message =
            switch exhausted.kind {
            case "user": "ExceededBudget: User=\(exhausted.name) over budget. Spend=\(spent), Budget=\(budget)"
            case "end_user":
                "ExceededBudget: End User=\(exhausted.name) over budget. Spend=\(spent), Budget=\(budget)"
            case ProxyBudget.subjectID: "Budget has been exceeded! Current cost: \(spent), Max budget: \(budget)"
            default:
                "Budget has been exceeded! \(exhausted.kind.prefix(1).uppercased() + exhausted.kind.dropFirst())=\(exhausted.name) Current cost: \(spent), "
                    + "Max budget: \(budget)"
            }
        return GatewayError(.budgetExceeded, message, status: refusalStatus)
    }

    /// How LiteLLM names a key in a refusal: its alias (or `key`), then its display name in
    /// parentheses only when that still has the masked form `sk-...wxyz` (a name written straight
    /// into a database, an imported one say, could hold anything, so it is not echoed).
    static func keyDescriptor(alias: String?, keyName: String) -> String {
        let label = alias ?? "key"
        let masked = "sk-..."
        guard keyName.hasPrefix(masked) else { return label }
        let tail = keyName.unicodeScalars.dropFirst(masked.count)
        // Four characters, none a space or a control character (C0, DEL, C1), or none at all.
        let printable = tail.allSatisfy { !$0.properties.isWhitespace && !(0...0x1F ~= $0.value) && !(0x7F...0x9F ~= $0.value) }
        guard tail.isEmpty || (tail.count == 4 && printable) else { return label }
        return "\(label) (\(keyName))"
    }

    /// Drops a reservation whose request will have no ledger row. The proxy budget, which only
    /// the ledger's rows fill, takes `unrecordedCost` itself, so `max_budget` still binds with
    /// `disable_spend_logs` or no store.
    func release(_ reservation: Reservation, unrecordedCost: Double = 0) {
        state.withLock { state in
            state.add(-reservation.amount, to: reservation.subjects)
            if unrecordedCost != 0, reservation.subjects.contains(ProxyBudget.subjectID) {
                proxyBudget?.recorded(unrecordedCost)
            }
        }
    }

    /// Replaces a settled request's estimate with its real cost, counted until `recorded` hears
    /// that its row is in the store (from where the store's spend counts it).
    func settle(_ reservation: Reservation, cost: Double, requestID: String) {
        state.withLock { state in
            state.add(cost - reservation.amount, to: reservation.subjects)
            state.settled[requestID] = (reservation.subjects, cost)
        }
    }

    /// The settled costs of `subjectID`'s requests whose rows the ledger has not written yet:
    /// spend the store's records do not show so far.
    func settledUnrecorded(_ subjectID: String) -> Double {
        state.withLock { state in
            state.settled.values.reduce(0) { $0 + ($1.subjects.contains(subjectID) ? $1.cost : 0) }
        }
    }

    /// The ledger wrote these requests' rows: their costs are in the store's spend now.
    public func recorded(_ requestIDs: some Sequence<String>) {
        state.withLock { state in
            for id in requestIDs {
                guard let settled = state.settled.removeValue(forKey: id) else { continue }
                state.add(-settled.cost, to: settled.subjects)
                // Under the lock, so no request sees the cost in neither place.
                if settled.subjects.contains(ProxyBudget.subjectID) { proxyBudget?.recorded(settled.cost) }
            }
        }
    }

    /// A cost no lower than the request's: its body as input tokens (a token is rarely under four
    /// bytes), its output limit (or the model's, or 4096) as output, at the dearest deployment.
    static func estimate(_ request: OpenAIRequest, bodyBytes: Int, prices: [ModelPrice]) -> Double {
        guard !prices.isEmpty else { return 0 }
        // An upload's bytes are audio, not prompt tokens.
        let input = request.form == nil ? Double(bodyBytes) / 4 : 0
        let body = request.body
        let limit = (body["max_completion_tokens"] ?? body["max_tokens"] ?? body["max_output_tokens"])?.intValue
        // What is billed per unit, where it is known before the call (not an upload's seconds).
        let units = BilledUnits(
            images: request.operation == .imageGeneration ? body["n"]?.intValue ?? 1 : nil,
            characters: request.operation == .audioSpeech ? body["input"]?.stringValue?.count : nil,
            queries: request.operation == .rerank ? 1 : nil)
        return prices.map { price in
            let output = Double(limit ?? price.maxOutputTokens ?? defaultOutputTokens)
            return input * price.inputCostPerToken + output * price.outputCostPerToken
                + (price.cost(of: nil, units: units) ?? 0)
        }.max() ?? 0
    }
}
