import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Sinks
import Synchronization
import Telemetry

/// Raises operational alerts on a Slack-compatible webhook: soft budgets crossed, deployments
/// going into cooldown and coming back, and sinks failing for longer than a threshold (and their
/// recovery). It watches the gateway's state a few times a second, off the request path; alerts go
/// through their own bounded queue, and drops are counted on `/metrics` as the `alerts` sink.
public final class AlertMonitor: Service, Sendable {
    /// A sink's delivery history as the monitor last saw it.
    struct SinkWatch: Equatable {
        var exported: Int
        var failedAttempts: Int
        /// When the failures began without any delivery since; nil while healthy.
        var failingSince: Double?
        var alerted = false
    }

    struct State {
        var cooling: Set<String> = []
        var sinks: [String: SinkWatch] = [:]
    }

    let settings: AlertSettings
    private let router: ModelRouter
    private let pipeline: Pipeline
    private let budgetAlerts: BudgetAlerts
    private let queue = BoundedQueue<String>(capacity: 256)
    private let delivery: HTTPDelivery
    private let state = Mutex(State())
    private let counts = Mutex<(sent: Int, dropped: Int)>((0, 0))
    private let interval: Duration
    private let clock: any GatewayClock

    init(
        settings: AlertSettings, router: ModelRouter, pipeline: Pipeline, budgetAlerts: BudgetAlerts, client: HTTPClient,
        interval: Duration = .milliseconds(250), logger: Logger, clock: any GatewayClock = SystemClock()
    ) {
        self.settings = settings
        self.clock = clock
        self.router = router
        self.pipeline = pipeline
        self.budgetAlerts = budgetAlerts
        self.interval = interval
        self.delivery = HTTPDelivery(
            sink: "alerts", client: client, backoff: Backoff(maxRetries: 3), timeout: .seconds(10), logger: logger)
    }

    var stats: SinkStats {
        let (sent, dropped) = counts.withLock { $0 }
        return SinkStats(
            sink: "alerts", exported: sent, failedAttempts: delivery.failedAttempts, dropped: dropped,
            queueDepth: queue.count)
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.send() }
                while !queue.isClosed && !Task.isCancelled {
                    check(now: clock.nowSeconds())
                    try? await Task.sleep(for: interval)
                }
            }
        } onGracefulShutdown: {
            self.delivery.stopRetrying()
            self.queue.close()
        }
    }

    /// One look at the gateway: raises what changed since the last look.
    func check(now: Double) {
        var alerts: [String] = []
        if settings.kinds.contains(.budget) {
            for alert in budgetAlerts.queue.drain(upTo: 100) {
                let who = alert.keyAlias.map { "key '\($0)'" } ?? "a key"
                let team = alert.teamID.map { " (team '\($0)')" } ?? ""
                alerts.append(
                    "Budget alert: \(who)\(team) has spent $\(Self.money(alert.spend)), crossing its soft budget of $\(Self.money(alert.softBudget))."
                )
            }
        }
        let cooling = Set(router.deployments.map(\.config.id).filter { router.cooldowns.isCooling($0, now: now) })
        let stats = pipeline.stats()
        state.withLock { state in
            if settings.kinds.contains(.cooldown) {
                for deployment in router.deployments {
                    let id = deployment.config.id
                    let group = deployment.config.modelName
                    if cooling.contains(id) && !state.cooling.contains(id) {
                        alerts.append("Deployment '\(id)' of model group '\(group)' is cooling down after failures.")
                    } else if !cooling.contains(id) && state.cooling.contains(id) {
                        alerts.append("Deployment '\(id)' of model group '\(group)' has recovered and takes requests again.")
                    }
                }
            }
            state.cooling = cooling
            for sink in stats {
                var watch = state.sinks[sink.sink] ?? SinkWatch(exported: sink.exported, failedAttempts: sink.failedAttempts)
                if sink.exported > watch.exported {
                    if watch.alerted && settings.kinds.contains(.sinkFailure) {
                        alerts.append("Sink '\(sink.sink)' is delivering again.")
                    }
                    watch.failingSince = nil
                    watch.alerted = false
                } else if sink.failedAttempts > watch.failedAttempts, watch.failingSince == nil {
                    watch.failingSince = now
                }
                if let since = watch.failingSince, !watch.alerted, now - since >= settings.sinkFailureSeconds {
                    watch.alerted = true
                    if settings.kinds.contains(.sinkFailure) {
                        alerts.append(
                            "Sink '\(sink.sink)' has failed to deliver for \(Int(now - since)) s; \(sink.dropped) requests dropped so far, \(sink.queueDepth) queued."
                        )
                    }
                }
                watch.exported = sink.exported
                watch.failedAttempts = sink.failedAttempts
                state.sinks[sink.sink] = watch
            }
        }
        for alert in alerts where !queue.push(alert) {
            counts.withLock { $0.dropped += 1 }
        }
    }

    private func send() async {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        while let batch = await queue.next(upTo: 1) {
            for text in batch {
                let body = JSONValue.object(["text": .string(text)]).encoded()
                let delivered = await delivery.post(url: settings.webhookURL, headers: headers, body: ByteBuffer(bytes: body))
                counts.withLock { if delivered { $0.sent += 1 } else { $0.dropped += 1 } }
            }
        }
    }

    static func money(_ value: Double) -> String {
        ReplyHeaders.formatCost((value * 100).rounded() / 100)
    }
}
