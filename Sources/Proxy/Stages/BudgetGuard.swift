import Store
import Synchronization
import Telemetry

/// Stage 2 (budgets): a request is refused once its key's (or team's) committed spend plus the
/// estimates reserved by requests in flight reaches that budget. Each admitted request reserves an estimate and
/// releases it when it settles (its real cost is in the ledger by then), so concurrent requests
/// can overspend by at most what was in flight when the budget ran out, and by nothing when the
/// estimates hold.
public final class BudgetGuard: Sendable {
    public struct Reservation: Sendable {
        let subjects: [String]
        let amount: Double
    }

    /// Output tokens assumed when a request sets no limit and the model's is unknown.
    static let defaultOutputTokens = 4096

    private let reserved = Mutex<[String: Double]>([:])

    public init() {}

    /// Reserves `estimate` against every subject's budget, or refuses with 400 `budget_exceeded`
    /// naming the first subject that has none left.
    func reserve(_ subjects: [LimitSubject], estimate: Double) throws(GatewayError) -> Reservation? {
        let budgeted = subjects.filter { $0.maxBudget != nil }
        guard !budgeted.isEmpty else { return nil }
        let exhausted = reserved.withLock { reserved -> LimitSubject? in
            if let spent = Self.firstSpent(budgeted, reserved: reserved) { return spent }
            for subject in budgeted { reserved[subject.id, default: 0] += estimate }
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
        if let exhausted = reserved.withLock({ Self.firstSpent(budgeted, reserved: $0) }) { throw Self.refusal(exhausted) }
    }

    private static func firstSpent(_ budgeted: [LimitSubject], reserved: [String: Double]) -> LimitSubject? {
        budgeted.first { $0.spend + reserved[$0.id, default: 0] >= $0.maxBudget ?? .infinity }
    }

    private static func refusal(_ exhausted: LimitSubject) -> GatewayError {
        GatewayError(.budgetExceeded, "This \(exhausted.kind) has reached its budget of \(exhausted.maxBudget ?? 0) USD.")
    }

    func release(_ reservation: Reservation) {
        reserved.withLock { reserved in
            for id in reservation.subjects {
                let left = reserved[id, default: 0] - reservation.amount
                reserved[id] = left > 1e-15 ? left : nil
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
