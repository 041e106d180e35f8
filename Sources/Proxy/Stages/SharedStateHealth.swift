import Logging
import Redis
import Sinks
import Synchronization

/// Whether Redis answered the last time a replica asked it, shared by everything that asks
/// (limits, budgets): the switch to and from degraded is logged once and shown in `/metrics`,
/// and every failed call is counted.
final class SharedStateHealth: Sendable {
    let failureMode: SharedStateSettings.FailureMode
    private let prometheus: PrometheusSink
    private let logger: Logger
    private let degraded = Mutex(false)

    init(failureMode: SharedStateSettings.FailureMode, prometheus: PrometheusSink, logger: Logger) {
        self.failureMode = failureMode
        self.prometheus = prometheus
        self.logger = logger
        prometheus.declareSharedState()
    }

    func failed(_ error: RedisError) {
        prometheus.countSharedStateError()
        let changed = degraded.withLock { state in
            defer { state = true }
            return !state
        }
        guard changed else { return }
        prometheus.setSharedStateDegraded(true)
        let meanwhile =
            failureMode == .failOpen
            ? "limits and budgets are kept per replica" : "requests with limits or budgets are refused"
        logger.error(
            "shared state unreachable: \(meanwhile) until it returns",
            metadata: ["error": "\(error.kind)", "failure_mode": "\(failureMode.rawValue)"])
    }

    func succeeded() {
        let changed = degraded.withLock { state in
            defer { state = false }
            return state
        }
        guard changed else { return }
        prometheus.setSharedStateDegraded(false)
        logger.notice("shared state reachable again: limits and budgets are shared by every replica")
    }

    /// A malformed reply: Redis (or something posing as it) cannot be trusted to decide.
    func unexpected(_ what: String) {
        failed(RedisError(kind: .protocolViolation, message: "unexpected reply to the \(what) script"))
    }

    /// What a request meets when Redis could not decide and the mode is fail-closed.
    static func unavailable(_ what: String) -> GatewayError {
        var error = GatewayError(.storeUnavailable, "\(what) cannot be checked: the shared state (Redis) is unreachable.")
        error.headers["retry-after"] = "1"
        return error
    }
}
