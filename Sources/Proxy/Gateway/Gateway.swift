import HTTPTypes
import Logging
import NIOCore
import Sinks
import Store
import Telemetry

/// Spanway in-process: authenticate, route, translate, call, normalise, price, and emit one
/// `FinishedSpan` per request. The HTTP server is a thin face over this type, and Swift programs
/// can embed it without one.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let router: ModelRouter
    public let pipeline: Pipeline
    public let prometheus: PrometheusSink
    /// The spend ledger; nil without a store or with `disable_spend_logs`.
    public let ledger: SpendLedger?
    let authenticator: Authenticator
    let budgets = BudgetGuard()
    let rateLimiter = RateLimiter()
    /// Soft-budget crossings, queued for the alert sinks.
    public let budgetAlerts: BudgetAlerts
    /// `/key/*`, when there is a store to keep keys in.
    public let keyManagement: KeyManagement?
    /// `/organization/*`, when there is a store.
    public let organizationManagement: OrganizationManagement?
    /// `/user/*`, when there is a store.
    public let userManagement: UserManagement?
    /// `/team/*`, when there is a store.
    public let teamManagement: TeamManagement?
    /// `/spend/logs` and `/global/spend/report`, when there is a store.
    public let spendReports: SpendReports?
    /// Which traces the trace sinks receive (`OTEL_TRACES_SAMPLER`).
    let sampler: Sampler
    /// Teams' own destinations, built from their metadata; nil without a store.
    let teamDestinations: TeamDestinations?
    /// Operational alerts (`general_settings.alerting` / `spanway_settings.alerts`).
    public let alertMonitor: AlertMonitor?
    /// What captured content must never contain: the master key, the metrics token, provider keys,
    /// sink credentials.
    let contentSecrets: [String]
    /// Captured content waits here to be redacted, off the request path, before the sinks see it.
    let redaction: RedactionQueue
    let logger: Logger
    let startedAt: Int
    /// Wait between retries of one request; short, because a client is waiting.
    let retryBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5), maxRetries: .max)
    /// Largest upstream answer read whole (non-streaming).
    let maxUpstreamBody = 64 * 1024 * 1024

    public init(
        config: GatewayConfig, deployments: [Deployment], pipeline: Pipeline, prometheus: PrometheusSink,
        store: (any GatewayStore)?, logger: Logger, priceBook: PriceBook = PriceBook(),
        sampler: Sampler = .parentBasedAlwaysOn, sinkFactory: SinkFactory? = nil
    ) {
        self.sampler = sampler
        // Destinations set through the admin API go only where `allowed_egress` lets them.
        let egress = EgressPolicy(allowed: config.allowedEgress)
        self.teamDestinations = sinkFactory.map {
            TeamDestinations(
                pipeline: pipeline, factory: $0, configured: config.teamTraceSettings,
                egress: egress, logger: logger)
        }
        self.contentSecrets = [config.masterKey, config.metricsToken].compactMap { $0 } + deployments.flatMap(\.config.secrets)
            + config.sinks.flatMap(\.secrets)
        self.budgetAlerts = BudgetAlerts(logger: logger)
        self.ledger = config.disableSpendLogs ? nil : store.map(SpendLedger.init(store:))
        self.config = config
        self.router = ModelRouter(
            deployments: deployments, numRetries: config.retryPolicy.maxRetries(numRetries: config.numRetries),
            cooldowns: Cooldowns(settings: config.cooldowns),
            aliases: config.modelGroupAliases, strategy: config.routingStrategy, priceBook: priceBook)
        self.pipeline = pipeline
        self.redaction = RedactionQueue(pipeline: pipeline)
        self.prometheus = prometheus
        let authenticator = Authenticator(masterKey: config.masterKey, store: store)
        self.authenticator = authenticator
        self.keyManagement = store.map { KeyManagement(store: $0, authenticator: authenticator) }
        self.spendReports = store.map { SpendReports(store: $0, authenticator: authenticator) }
        self.teamManagement = store.map { TeamManagement(store: $0, authenticator: authenticator, egress: egress) }
        self.userManagement = store.map { UserManagement(store: $0, authenticator: authenticator) }
        self.organizationManagement = store.map { OrganizationManagement(store: $0, authenticator: authenticator) }
        if let settings = config.alerts, let factory = sinkFactory {
            self.alertMonitor = AlertMonitor(
                settings: settings, router: self.router, pipeline: pipeline, budgetAlerts: self.budgetAlerts,
                client: factory.client, logger: logger)
        } else {
            self.alertMonitor = nil
        }
        self.logger = logger
        self.startedAt = Int(WallClock.nowNanos() / 1_000_000_000)
    }

    /// Ends a request: emits its span to the sinks (never waiting) and commits its ledger row
    /// (waiting: spend is money). Called before the response, or a stream's last chunk, is released.
    func settle(_ exchange: Exchange, status: Int, error: GatewayError? = nil, clientDisconnected: Bool = false) async {
        guard let finished = exchange.finish(status: status, error: error, clientDisconnected: clientDisconnected) else {
            return
        }
        if let redactor = exchange.redactor, finished.summary.content != nil {
            redaction.submit(finished, redactor: redactor)
        } else {
            pipeline.emit(finished)
        }
        if let deployment = finished.summary.deploymentID, let tokens = finished.summary.usage?.totalTokens {
            router.load.used(deployment, tokens: tokens, now: WallClock.nowSeconds())
        }
        // The reservation is released only after the real cost is in the ledger, so at every
        // moment the budget counts the request one way or the other.
        defer {
            exchange.reservation.map(budgets.release)
            if let ticket = exchange.ticket {
                let tokens = finished.summary.usage?.totalTokens ?? 0
                rateLimiter.release(ticket, tokens: tokens, now: WallClock.nowSeconds())
            }
        }
        if let principal = exchange.principal {
            budgetAlerts.settled(principal, cost: finished.summary.costUSD ?? 0)
        }
        guard let ledger, exchange.isAuthenticated else { return }
        // Before the commit: a gauge loaded from the store after it would count the cost twice.
        exchange.principal.map { budgetGauges.settled($0, cost: finished.summary.costUSD ?? 0) }
        do {
            try await ledger.commit(SpendRow(finished))
        } catch {
            // The answer still goes out; the row's facts are in the span and this log line.
            logger.error(
                "ledger write failed",
                metadata: [
                    "request_id": "\(finished.summary.requestID)", "spend": "\(finished.summary.costUSD ?? 0)",
                    "error": "\(type(of: error))",
                ])
        }
    }

    /// Stage 1 (telemetry part): where the caller's trace may go, and whether its content is captured.
    func routeTrace(_ exchange: Exchange, principal: Principal) {
        var team = principal.caller.teamID.flatMap { config.teamTraceSettings[$0] }
        if let record = principal.team, let teamDestinations { team = teamDestinations.settings(for: record) }
        let capture = team?.captureContent ?? config.captureContent
        let redactor = capture
            ? ContentRedactor(secrets: contentSecrets, redactEmails: team?.redactEmails ?? config.redactEmails) : nil
        exchange.route(teamDestinationsOnly: team?.defaultSinks == false, redactor: redactor)
    }

    /// `GET /metrics`: the Prometheus text, with sink-delivery, budget and deployment figures as
    /// of now. Budgets come from memory (`BudgetGauges`); only the first scrape reads the store.
    public func metricsText() async -> [UInt8] {
        await loadBudgetGauges()
        let (budgets, exhausted) = budgetGauges.figures()
        return prometheus.render(
            sinks: pipeline.stats() + [budgetAlerts.stats, redaction.stats] + (alertMonitor.map { [$0.stats] } ?? []), budgets: budgets,
            exhausted: exhausted, deployments: deploymentFigures())
    }

    /// Budgets as `/metrics` shows them; `settle` feeds it each request's cost.
    public var budgetGauges: BudgetGauges { authenticator.budgetGauges }

    /// Reads the store's budgets into the gauges, once (later calls return at once).
    public func loadBudgetGauges() async {
        guard let store = authenticator.store else { return }
        await budgetGauges.loadOnce(from: store, logger: logger)
    }

    func deploymentFigures() -> [PrometheusSink.DeploymentFigure] {
        let now = WallClock.nowSeconds()
        let counts = router.cooldowns.cooldownCounts()
        return router.deployments.map { deployment in
            PrometheusSink.DeploymentFigure(
                modelGroup: deployment.config.modelName, deployment: deployment.config.id,
                coolingDown: router.cooldowns.isCooling(deployment.config.id, now: now),
                cooldowns: counts[deployment.config.id] ?? 0)
        }
    }

    /// `GET /v1/models`: the configured model groups.
    public func models(headers: HTTPFields) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers)
        } catch {
            return Self.reply(error, headers: [])
        }
        let allowed = principal.key.map { $0.models.isEmpty ? nil : Set($0.models) } ?? nil
        let data = config.modelGroups.filter { allowed?.contains($0) ?? true }.map { name -> JSONValue in
            .object(["id": .string(name), "object": "model", "created": .int(startedAt), "owned_by": "spanway"])
        }
        return GatewayReply(
            status: 200, headers: [("content-type", "application/json")],
            body: .bytes(JSONValue.object(["object": "list", "data": .array(data)]).encoded()))
    }

    static func reply(_ error: GatewayError, headers: [(String, String)]) -> GatewayReply {
        var all = headers + [("content-type", "application/json")]
        all += error.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return GatewayReply(status: error.status, headers: all, body: .bytes(error.body.encoded()))
    }
}
