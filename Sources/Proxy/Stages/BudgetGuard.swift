import Store
import Synchronization
import Telemetry

/// Stage 2 (budgets): a key is refused once its committed spend plus the estimates reserved by
/// its requests in flight reaches its budget. Each admitted request reserves an estimate and
/// releases it when it settles (its real cost is in the ledger by then), so concurrent requests
/// can overspend by at most what was in flight when the budget ran out, and by nothing when the
/// estimates hold.
public final class BudgetGuard: Sendable {
    public struct Reservation: Sendable {
        let token: String
        let amount: Double
    }

    /// Output tokens assumed when a request sets no limit and the model's is unknown.
    static let defaultOutputTokens = 4096

    private let reserved = Mutex<[String: Double]>([:])

    public init() {}

    /// Reserves `estimate` against the key's budget, or refuses with 400 `budget_exceeded`.
    func reserve(_ key: VirtualKey, estimate: Double) throws(GatewayError) -> Reservation? {
        guard let budget = key.maxBudget else { return nil }
        let admitted = reserved.withLock { reserved -> Bool in
            let inFlight = reserved[key.token, default: 0]
            guard key.spend + inFlight < budget else { return false }
            reserved[key.token] = inFlight + estimate
            return true
        }
        guard admitted else {
            throw GatewayError(
                status: 400, type: "budget_exceeded",
                message: "This key has reached its budget of \(budget) USD.", code: "budget_exceeded",
                errorType: "budget_exceeded")
        }
        return Reservation(token: key.token, amount: estimate)
    }

    func release(_ reservation: Reservation) {
        reserved.withLock { reserved in
            let left = reserved[reservation.token, default: 0] - reservation.amount
            reserved[reservation.token] = left > 1e-15 ? left : nil
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
