import Logging
import Synchronization
import Telemetry

/// `/health`: every deployment called cheaply (`HealthProbe`), all at once, each result reused
/// for `health_check_interval` seconds of the gateway's clock, since a check costs a call to
/// every provider. Concurrent `/health` requests share the checks in flight. An unhealthy
/// deployment is counted against its health exactly as a failed request would be, so a dead
/// deployment found here cools down before a client meets it.
public final class HealthChecks: Sendable {
    /// One deployment's latest result.
    struct Outcome: Sendable {
        var finding: HealthProbe.Finding
        /// The gateway clock's time when the check started.
        var checkedAt: Double
    }

    private enum Slot {
        case checked(Outcome)
        case running(Task<Outcome, Never>)
    }

    let router: ModelRouter
    let settings: HealthCheckSettings
    let clock: any GatewayClock
    let logger: Logger
    private let slots = Mutex<[String: Slot]>([:])

    init(router: ModelRouter, settings: HealthCheckSettings, clock: any GatewayClock, logger: Logger) {
        self.router = router
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    public convenience init(gateway: Gateway) {
        self.init(router: gateway.router, settings: gateway.config.healthChecks, clock: gateway.clock, logger: gateway.logger)
    }

    /// The results for `deployments`, checking those with no result younger than the interval
    /// (all of them when `refresh`), in the order given.
    func results(for deployments: [Deployment], refresh: Bool = false) async -> [Outcome] {
        let now = clock.nowSeconds()
        let pending = slots.withLock { slots in
            deployments.map { deployment -> Slot in
                let id = deployment.config.id
                switch slots[id] {
                case .running(let task):
                    return .running(task)
                case .checked(let result) where !refresh && now - result.checkedAt < settings.interval:
                    return .checked(result)
                default:
                    // Created and stored under the lock, so the task's own store of its result comes after.
                    let task = Task { await self.check(deployment) }
                    slots[id] = .running(task)
                    return .running(task)
                }
            }
        }
        var results: [Outcome] = []
        for slot in pending {
            switch slot {
            case .checked(let result): results.append(result)
            case .running(let task): results.append(await task.value)
            }
        }
        return results
    }

    /// Checks one deployment, records the result, and feeds a failure to the cooldowns.
    private func check(_ deployment: Deployment) async -> Outcome {
        let started = clock.nowSeconds()
        let finding = await HealthProbe.check(deployment, timeout: settings.timeout)
        if case .unhealthy(let error) = finding {
            let id = deployment.config.id
            if router.cooldowns.recordFailure(id, error: error, now: clock.nowSeconds()) {
                logger.warning(
                    "deployment cooling down after a failed health check",
                    metadata: [
                        "model_group": "\(deployment.config.modelName)", "deployment": "\(id)",
                        "error_type": "\(error.errorType)",
                    ])
            }
        }
        let result = Outcome(finding: finding, checkedAt: started)
        slots.withLock { $0[deployment.config.id] = .checked(result) }
        return result
    }
}
