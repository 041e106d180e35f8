import HTTPTypes
import Logging
import NIOCore
import Redis
import Sinks
import Store
import Telemetry

/// Spanway in-process: the front of one gateway. It builds the stages from a config and hands
/// each request to `RequestFlow`, which runs it from authentication to settlement; the HTTP
/// server is a thin face over this type, and Swift programs can embed it without one.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let router: ModelRouter
    public let pipeline: Pipeline
    public let prometheus: PrometheusSink
    /// The spend ledger; nil without a store or with `disable_spend_logs`.
    public let ledger: SpendLedger?
    let authenticator: Authenticator
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
    /// `/model/new`, `/model/update`, `/model/delete`, when there is a store.
    public let modelManagement: ModelManagement?
    /// The config's deployments and the stored models, served by `router`.
    let modelRegistry: ModelRegistry
    /// Operational alerts (`general_settings.alerting` / `spanway_settings.alerts`).
    public let alertMonitor: AlertMonitor?
    /// Limits and cooldowns shared with the other replicas through Redis, when configured.
    public let sharedState: SharedState?
    /// The secrets scrubbed from captured content (and, through `observe`, from JSON logs): the
    /// config's, and the credentials of every model served, stored ones included.
    public let contentSecrets: ContentSecrets
    /// Captured content waits here to be redacted before the sinks see it (its counts go to /metrics).
    let redaction: RedactionQueue
    /// Every request to a model (chat, Responses, embeddings, Messages, images, audio, …) runs through it.
    let flow: RequestFlow
    /// The Responses answers kept for `previous_response_id`, `GET` and `DELETE`.
    let responseStore: ResponseStore
    let logger: Logger
    /// The one source of time for the gateway's decisions.
    let clock: any GatewayClock
    let startedAt: Int

    public init(
        config: GatewayConfig, deployments: [Deployment], pipeline: Pipeline, prometheus: PrometheusSink,
        store: (any GatewayStore)?, journal: SpendJournal? = nil, logger: Logger, priceBook: PriceBook = PriceBook(),
        sampler: Sampler = .parentBasedAlwaysOn, sinkFactory: SinkFactory? = nil, redis: RedisClient? = nil,
        clock: any GatewayClock = SystemClock(), deploymentFactory: DeploymentFactory? = nil
    ) {
        self.clock = clock
        // Keys, teams, users and organisations from memory; every write below goes through it.
        let store = store.map { CachedStore($0, clock: clock) }
        // Destinations set through the admin API go only where `allowed_egress` lets them.
        let egress = EgressPolicy(allowed: config.allowedEgress)
        let teamDestinations = sinkFactory.map {
            TeamDestinations(
                pipeline: pipeline, factory: $0, configured: config.teamTraceSettings,
                egress: egress, logger: logger)
        }
        let contentSecrets = ContentSecrets(
            fixed: [config.masterKey, config.metricsToken].compactMap { $0 } + config.sinks.flatMap(\.secrets),
            deployments: deployments)
        self.contentSecrets = contentSecrets
        self.budgetAlerts = BudgetAlerts(logger: logger)
        let cooldowns = Cooldowns(settings: config.cooldowns)
        // Only usage-based routing reads other replicas' usage.
        let sharesUsage = redis != nil && config.sharedState != nil && config.routingStrategy == .usageBased
        let load = DeploymentLoad(sharing: sharesUsage)
        var sharedState: SharedState?
        if let redis, let settings = config.sharedState {
            let usage = sharesUsage ? SharedUsage.Setup(load: load, ids: deployments.map(\.config.id)) : nil
            sharedState = SharedState(
                client: redis, settings: settings, cooldowns: cooldowns, usage: usage, store: store,
                prometheus: prometheus, clock: clock, logger: logger)
        }
        self.sharedState = sharedState
        let budgets = BudgetGuard(
            refusalStatus: config.budgetExceededStatus,
            proxyBudget: config.proxyMaxBudget.map {
                ProxyBudget(maxBudget: $0, period: config.proxyBudgetDuration, now: clock.nowSeconds())
            },
            shared: sharedState?.budgets)
        // The budgets count a settled request's cost themselves until its row is in the store.
        let recorded: @Sendable ([SpendRow]) -> Void = { rows in budgets.recorded(rows.lazy.map(\.requestID)) }
        self.ledger =
            config.disableSpendLogs
            ? nil
            : store.map {
                SpendLedger(
                    store: $0, journal: journal, logger: logger,
                    retention: config.spendLogsRetention.map { SpendRetention(maxAgeSeconds: $0, clock: clock) },
                    ingested: recorded)
            }
        self.config = config
        self.router = ModelRouter(
            deployments: deployments, numRetries: config.retryPolicy.maxRetries(numRetries: config.numRetries),
            cooldowns: cooldowns,
            aliases: config.modelGroupAliases, strategy: config.routingStrategy, priceBook: priceBook, load: load)
        self.pipeline = pipeline
        let redaction = RedactionQueue(pipeline: pipeline)
        self.redaction = redaction
        self.prometheus = prometheus
        let authenticator = Authenticator(
            masterKey: config.masterKey, store: store, clock: clock, deployments: router.deploymentSet)
        self.authenticator = authenticator
        let models = ModelRegistry(
            configured: deployments, set: router.deploymentSet, factory: deploymentFactory, store: store,
            secrets: ModelSecrets(environment: deploymentFactory?.environment ?? [:], masterKey: config.masterKey),
            logger: logger
        ) { [prometheus, sharedState] served in
            prometheus.litellm?.serve(served.map(LiteLLMMetrics.Deployment.init))
            contentSecrets.serve(served)
            sharedState?.usage?.serve(ids: served.map(\.config.id))
        }
        self.modelRegistry = models
        self.modelManagement = store.map {
            ModelManagement(store: $0, authenticator: authenticator, registry: models, clock: clock)
        }
        self.keyManagement = store.map {
            var keys = KeyManagement(store: $0, authenticator: authenticator)
            keys.modelBudgets = budgets.modelBudgets
            return keys
        }
        self.spendReports = store.map { SpendReports(store: $0, authenticator: authenticator) }
        self.teamManagement = store.map { TeamManagement(store: $0, authenticator: authenticator, egress: egress) }
        self.userManagement = store.map { UserManagement(store: $0, authenticator: authenticator) }
        self.organizationManagement = store.map { OrganizationManagement(store: $0, authenticator: authenticator) }
        if let settings = config.alerts, let factory = sinkFactory {
            self.alertMonitor = AlertMonitor(
                settings: settings, router: self.router, pipeline: pipeline, budgetAlerts: self.budgetAlerts,
                client: factory.client, logger: logger, clock: clock)
        } else {
            self.alertMonitor = nil
        }
        self.logger = logger
        self.startedAt = Int(clock.nowSeconds())
        let rateLimiter = RateLimiter(shared: sharedState?.limits)
        let responseStore = ResponseStore(
            limits: config.responses, clock: clock, backing: store.map(StoreResponseArchive.init), logger: logger)
        self.responseStore = responseStore
        let settlement = Settlement(
            pipeline: pipeline, redaction: redaction, load: router.load, budgets: budgets, rateLimiter: rateLimiter,
            budgetAlerts: budgetAlerts, budgetGauges: authenticator.budgetGauges, ledger: ledger, logger: logger,
            clock: clock)
        self.flow = RequestFlow(
            config: config, authenticator: authenticator,
            traces: TraceRouting(
                config: config, sampler: sampler, teamDestinations: teamDestinations, contentSecrets: contentSecrets),
            rateLimiter: rateLimiter, budgets: budgets, router: router,
            attempts: AttemptLoop(
                config: config, router: router, prometheus: prometheus, settlement: settlement, logger: logger, clock: clock,
                prompts: PromptCounter(config: config, logger: logger), responses: ResponsesKeeper(store: responseStore)),
            settlement: settlement, clock: clock)
    }

    /// Proxies a request to a model (chat, embeddings, Responses, completions, images, speech,
    /// rerank, moderations). Never throws: every failure is an
    /// OpenAI-shaped reply, and every request, answered or refused, is emitted as one span.
    public func proxy(
        _ operation: OpenAIRequest.Operation, body: ByteBuffer, headers: HTTPFields, route: String
    ) async -> GatewayReply {
        await proxy(operation, headers: headers, route: route, body: { body })
    }

    /// The same, with the body read by `body` only once the caller is known and admitted.
    public func proxy(
        _ operation: OpenAIRequest.Operation, headers: HTTPFields, route: String,
        body: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        await modelRegistry.ensureLoaded()
        // A comma-separated `model` answers with a list (LiteLLM's batch completions).
        if operation == .chat { return await ModelFanOut(flow: flow).proxy(headers: headers, route: route, body: body) }
        return await flow.run(operation, headers: headers, route: route, body: body) { bytes throws(GatewayError) in
            try OpenAIRequest(operation: operation, bytes: bytes)
        }
    }

    /// `GET /metrics`: the Prometheus text (or OpenMetrics, with exemplars), with sink-delivery,
    /// budget and deployment figures as of now. Budgets come from memory (`BudgetGauges`); only
    /// the first scrape reads the store.
    public func metricsText(format: MetricsFormat = .prometheusText) async -> [UInt8] {
        await loadBudgetGauges()
        let (budgets, exhausted) = budgetGauges.figures()
        return prometheus.render(
            sinks: pipeline.stats() + [budgetAlerts.stats, redaction.stats] + (alertMonitor.map { [$0.stats] } ?? []),
            budgets: budgets,
            exhausted: exhausted, deployments: deploymentFigures(), inFlight: flow.settlement.inFlight.current,
            process: ProcessFigures.current(), budgetRecords: prometheus.litellm == nil ? [] : budgetGauges.litellmBudgets(),
            format: format)
    }

    /// Budgets as `/metrics` shows them; `settle` feeds it each request's cost.
    public var budgetGauges: BudgetGauges { authenticator.budgetGauges }

    /// Reads the store's budgets into the gauges, once (later calls return at once).
    public func loadBudgetGauges() async {
        guard let store = authenticator.store else { return }
        await budgetGauges.loadOnce(from: store, logger: logger)
    }

    func deploymentFigures() -> [PrometheusSink.DeploymentFigure] {
        let now = clock.nowSeconds()
        let counts = router.cooldowns.cooldownCounts()
        return router.deployments.map { deployment in
            PrometheusSink.DeploymentFigure(
                modelGroup: deployment.config.modelName, deployment: deployment.config.id,
                coolingDown: router.cooldowns.isCooling(deployment.config.id, now: now),
                cooldowns: counts[deployment.config.id] ?? 0)
        }
    }
}
