import Logging
import Sinks
import Store
import Synchronization
import Telemetry

/// The last stage of every request, answered or refused: its span goes to the sinks (never
/// waited on), its tokens to the limits and the router's load, its reservation is released, and
/// its spend is committed to the ledger (waited on: spend is money; with the journal that is one
/// `write()`). Runs before the response, or a stream's last chunk, is released.
struct Settlement: Sendable {
    let pipeline: Pipeline
    /// Captured content is redacted here, off the request path, before the sinks see it.
    let redaction: RedactionQueue
    let load: DeploymentLoad
    let budgets: BudgetGuard
    let rateLimiter: RateLimiter
    let budgetAlerts: BudgetAlerts
    let budgetGauges: BudgetGauges
    /// Nil without a store or with `disable_spend_logs`.
    let ledger: SpendLedger?
    let logger: Logger
    let clock: any GatewayClock
    /// Requests taken and not yet settled: `RequestFlow` counts each in, settling counts it out.
    let inFlight = RequestsInFlight()

    /// Settles `exchange` once; later calls for the same exchange do nothing.
    func settle(_ exchange: Exchange, status: Int, error: GatewayError? = nil, clientDisconnected: Bool = false) async {
        guard let finished = exchange.finish(status: status, error: error, clientDisconnected: clientDisconnected) else {
            return
        }
        inFlight.end()
        if let redactor = exchange.redactor, finished.summary.content != nil {
            redaction.submit(finished, redactor: redactor)
        } else {
            pipeline.emit(finished)
        }
        let tokens = finished.summary.usage?.totalTokens
        if let deployment = finished.summary.deploymentID, let tokens {
            load.used(deployment, tokens: tokens, now: clock.nowSeconds())
        }
        // Before the answer ends, so a client that sends its next request on seeing it finds the slot free.
        if let ticket = exchange.ticket { await rateLimiter.release(ticket, tokens: tokens ?? 0, now: clock.nowSeconds()) }
        let cost = finished.summary.costUSD ?? 0
        if let principal = exchange.principal {
            let unrecorded = principal.key.map { budgets.settledUnrecorded($0.limitSubject.id) } ?? 0
            budgetAlerts.settled(principal, cost: cost, unrecorded: unrecorded)
        }
        if exchange.isAuthenticated {
            for charge in exchange.budgetCharges {
                await budgets.modelBudgets.charge(charge, cost: cost, now: clock.nowSeconds())
            }
        }
        guard let ledger, exchange.isAuthenticated else {
            if let reservation = exchange.reservation {
                let cost = exchange.isAuthenticated ? cost : 0
                budgets.release(reservation, unrecordedCost: cost)
                await budgets.settleShared(reservation, cost: cost)
            }
            return
        }
        // Before the commit: a gauge loaded from the store after it would count the cost twice.
        exchange.principal.map { budgetGauges.settled($0, cost: cost) }
        // From here the budget counts the real cost instead of the estimate, until the ledger
        // has the row in the store: at every moment it counts the request one way or the other.
        let requestID = finished.summary.requestID
        if let reservation = exchange.reservation {
            budgets.settle(reservation, cost: cost, requestID: requestID)
            // Before the answer ends, as the ledger's commit: every replica counts it from here.
            await budgets.settleShared(reservation, cost: cost)
        }
        do {
            try await ledger.commit(SpendRow(finished))
        } catch {
            // The answer still goes out; the row's facts are in the span and this log line.
            budgets.recorded([requestID])
            logger.error(
                "ledger write failed",
                metadata: [
                    "request_id": "\(finished.summary.requestID)", "spend": "\(cost)", "error": "\(type(of: error))",
                ])
        }
    }
}

/// Requests the gateway has taken and not yet settled, for `/metrics`.
final class RequestsInFlight: Sendable {
    private let count = Atomic<Int>(0)

    func begin() { count.add(1, ordering: .relaxed) }
    func end() { count.subtract(1, ordering: .relaxed) }
    var current: Int { count.load(ordering: .relaxed) }
}
