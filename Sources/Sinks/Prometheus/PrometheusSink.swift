import Prometheus
import Synchronization
import Telemetry

/// Prometheus metrics, updated in place for each finished request and rendered by `GET /metrics`.
/// Every label comes from a bounded set (configured groups, providers, teams, key aliases, status
/// codes); request ids, user ids, key digests and prompts never become labels.
public final class PrometheusSink: SpanObserver, Sendable {
    /// OpenTelemetry GenAI semantic-convention buckets (v1.41), used exactly.
    public static let durationBuckets: [Double] = [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ]
    public static let tokenBuckets: [Double] = [
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
    ]
    /// The gateway's own overhead is sub-millisecond, so it needs finer buckets than the semconv set.
    public static let overheadBuckets: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    ]

    /// A budget at scrape time: its scope (`key`, `team`, `organization`), its name within it (a
    /// key's alias, a team's or organisation's alias or id; never a key digest or a user id) and
    /// what is left of it this period.
    public struct BudgetFigure: Sendable, Hashable {
        public var scope: String
        public var name: String
        public var remaining: Double

        public init(scope: String, name: String, remaining: Double) {
            self.scope = scope
            self.name = name
            self.remaining = remaining
        }
    }

    /// `key_alias` of a key that has none. A fixed value, so that unaliased keys add up to one
    /// series instead of one per key (their digests would be unbounded, and linkable).
    public static let unaliasedKey = "unaliased"

    /// A deployment at scrape time: whether it is cooling down, and how often it has been.
    public struct DeploymentFigure: Sendable, Hashable {
        public var modelGroup: String
        public var deployment: String
        public var coolingDown: Bool
        public var cooldowns: Int

        public init(modelGroup: String, deployment: String, coolingDown: Bool, cooldowns: Int) {
            self.modelGroup = modelGroup
            self.deployment = deployment
            self.coolingDown = coolingDown
            self.cooldowns = cooldowns
        }
    }

    public let registry: PrometheusCollectorRegistry
    /// Serialises scrapes, which rewrite the sink-delivery counters from the pipeline's totals and
    /// remember which budget series exist, so those of deleted keys and teams go away.
    private let scrapeLock = Mutex<[[(String, String)]]>([])
    /// Metric handles by series. The registry validates the name, labels and help text on every
    /// `make…` call, which cost more than the update itself; a request's series are looked up here.
    private let counters = Mutex<[SeriesKey: Counter]>([:])
    private let histograms = Mutex<[SeriesKey: ValueHistogram]>([:])

    struct SeriesKey: Hashable {
        var metric: String
        var labels: [String]
    }

    private func counter(_ metric: String, _ descriptor: @autoclosure () -> MetricNameDescriptor, _ labels: [(String, String)])
        -> Counter
    {
        let key = SeriesKey(metric: metric, labels: labels.map(\.1))
        if let cached = counters.withLock({ $0[key] }) { return cached }
        let made = registry.makeCounter(descriptor: descriptor(), labels: labels)
        counters.withLock { $0[key] = made }
        return made
    }

    private func histogram(
        _ metric: String, _ descriptor: @autoclosure () -> MetricNameDescriptor, _ labels: [(String, String)], buckets: [Double]
    ) -> ValueHistogram {
        let key = SeriesKey(metric: metric, labels: labels.map(\.1))
        if let cached = histograms.withLock({ $0[key] }) { return cached }
        let made = registry.makeValueHistogram(descriptor: descriptor(), labels: labels, buckets: buckets)
        histograms.withLock { $0[key] = made }
        return made
    }

    /// Records `value` in a histogram and keeps `exemplar` as its bucket's latest, for OpenMetrics scrapes.
    private func record(
        _ value: Double, _ metric: String, _ descriptor: @autoclosure () -> MetricNameDescriptor, _ labels: [(String, String)],
        buckets: [Double], exemplar: Exemplar?
    ) {
        histogram(metric, descriptor(), labels, buckets: buckets).record(value)
        guard var exemplar else { return }
        exemplar.value = value
        exemplars.keep(
            exemplar, key: SeriesKey(metric: metric, labels: labels.map(\.1)), family: { descriptor().name }, labels: labels,
            buckets: buckets)
    }

    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), requestModelLimit: Int = 256,
        litellm: LiteLLMMetrics? = nil
    ) {
        self.registry = registry
        self.requestModelLimit = requestModelLimit
        self.litellm = litellm
    }

    /// LiteLLM's series under LiteLLM's names (`prometheus_names: [spanway, litellm]`); nil when off.
    public let litellm: LiteLLMMetrics?

    /// The latest trace in each bucket of the latency histograms.
    let exemplars = ExemplarStore()
    /// `gen_ai_request_model` values seen so far (see `requestModelLabel`).
    private let requestModels = Mutex<Set<String>>([])
    private let requestModelLimit: Int

    /// The model the client asked for, as the `gen_ai_request_model` label. Names resolve to
    /// configured groups and aliases, a bounded set, except through a wildcard group
    /// (`openai/*`), where the client picks the name; past `requestModelLimit` distinct names,
    /// new ones are counted under their model group so that a client cannot grow the series
    /// without bound.
    func requestModelLabel(_ summary: RequestSummary) -> String {
        guard let model = summary.requestModel else { return summary.modelGroup ?? "" }
        let admitted = requestModels.withLock { seen in
            if seen.contains(model) { return true }
            guard seen.count < requestModelLimit else { return false }
            seen.insert(model)
            return true
        }
        return admitted ? model : summary.modelGroup ?? ""
    }

    /// The trace of `span` (of `request`) as an exemplar, when the trace was sampled: an unsampled
    /// trace is exported nowhere, so its id would link to nothing.
    static func exemplar(_ request: FinishedSpan, _ span: SpanData) -> Exemplar? {
        guard request.isSampled else { return nil }
        return Exemplar(
            traceID: span.traceID.hex, spanID: span.spanID.hex, value: 0, timestamp: Double(span.endNanos) / 1e9)
    }

    private static func text(_ value: AttributeValue?) -> String? {
        guard case .string(let text) = value else { return nil }
        return text
    }

    public func observe(_ span: FinishedSpan) {
        litellm?.observe(span)
        let s = span.summary
        let modelGroup = s.modelGroup ?? ""
        let provider = s.provider ?? ""
        let team = s.caller.teamAlias ?? s.caller.teamID ?? ""
        // A refused request has no key at all; that stays "", unlike a key without an alias.
        let keyAlias = s.caller.keyAlias ?? (s.caller.keyHash == nil ? "" : Self.unaliasedKey)
        let owner = [
            ("model_group", modelGroup), ("provider", provider), ("team", team), ("team_alias", s.caller.teamAlias ?? ""),
            ("key_alias", keyAlias),
        ]

        counter("requests", Self.requests, owner + [("status_code", String(s.statusCode))]).increment()
        if s.attempts > 1 {
            counter("retries", Self.retries, [("model_group", modelGroup)]).increment(by: Int64(s.attempts - 1))
        }
        let exemplar = Self.exemplar(span, span.server)
        record(
            s.durationSeconds, "duration", Self.requestDuration, [("model_group", modelGroup), ("provider", provider)],
            buckets: Self.durationBuckets, exemplar: exemplar)
        record(s.overheadSeconds, "overhead", Self.overhead, [], buckets: Self.overheadBuckets, exemplar: exemplar)

        // The GenAI client metrics describe upstream calls; a request refused before routing has none.
        guard s.provider != nil else { return }
        let requested = requestModelLabel(s)
        // One operation per upstream call, each with its own provider, group and error type: a
        // failed attempt that was retried or fell back counts too, not only the last one.
        for attempt in span.attempts {
            let labels = [
                ("gen_ai_operation_name", s.operation),
                ("gen_ai_provider_name", Self.text(attempt.attributes[AttributeName.providerName]) ?? provider),
                ("gen_ai_request_model", requested),
                ("model_group", Self.text(attempt.attributes[AttributeName.modelGroup]) ?? modelGroup),
                ("error_type", Self.text(attempt.attributes[AttributeName.errorType]) ?? ""),
            ]
            let seconds = Double(attempt.endNanos &- attempt.startNanos) / 1e9
            record(
                seconds, "operation", Self.operationDuration, labels, buckets: Self.durationBuckets,
                exemplar: Self.exemplar(span, attempt))
        }
        let genAI = [
            ("gen_ai_operation_name", s.operation), ("gen_ai_provider_name", provider), ("gen_ai_request_model", requested),
            ("model_group", modelGroup),
        ]
        if let ttfc = s.timeToFirstChunkSeconds {
            record(
                ttfc, "ttfc", Self.timeToFirstChunk, genAI, buckets: Self.durationBuckets,
                exemplar: Self.exemplar(span, span.answering ?? span.server))
        }
        if let usage = s.usage {
            for (type, count) in [("input", usage.inputTokens), ("output", usage.outputTokens)] {
                histogram("token_usage", Self.tokenUsage, genAI + [("gen_ai_token_type", type)], buckets: Self.tokenBuckets)
                    .record(Double(count))
            }
            let byType = [
                ("input", usage.inputTokens), ("output", usage.outputTokens),
                ("cache_read", usage.cacheReadTokens), ("cache_creation", usage.cacheCreationTokens),
                ("reasoning", usage.reasoningTokens),
            ]
            for (type, count) in byType where count > 0 {
                counter("tokens", Self.tokens, owner + [("type", type)]).increment(by: Int64(count))
            }
        }
        if let cost = s.costUSD, cost > 0 {
            counter("spend", Self.spend, owner).increment(by: cost)
        }
        // An answer with usage but no cost had no price (a cost of 0 is a price: a free model).
        if s.succeeded, s.usage != nil, s.costUSD == nil {
            counter("unpriced", Self.unpriced, [("model_group", modelGroup)]).increment()
        }
    }

    /// The exposition in `format` (text 0.0.4 unless asked for OpenMetrics, which adds the latency
    /// buckets' exemplars), with the sink-delivery figures taken from `sinks`, and `exhausted`: how
    /// many budgets of each scope are spent (users and unaliased keys included, which have no
    /// series of their own). `budgetRecords` are for LiteLLM's per-key and per-team series.
    public func render(
        sinks: [SinkStats], budgets: [BudgetFigure] = [], exhausted: [String: Int] = [:], deployments: [DeploymentFigure] = [],
        inFlight: Int? = nil, process: ProcessFigures? = nil, budgetRecords: [LiteLLMMetrics.Budget] = [],
        format: MetricsFormat = .prometheusText
    ) -> [UInt8] {
        scrapeLock.withLock { previousBudgets in
            if let inFlight { registry.makeGauge(descriptor: Self.inFlight).set(Double(inFlight)) }
            if let process { record(process) }
            let current = budgets.map { [("scope", $0.scope), ("name", $0.name)] }
            for labels in previousBudgets where !current.contains(where: { $0.elementsEqual(labels, by: ==) }) {
                registry.unregisterGauge(registry.makeGauge(descriptor: Self.budgetRemaining, labels: labels))
            }
            for (figure, labels) in zip(budgets, current) {
                registry.makeGauge(descriptor: Self.budgetRemaining, labels: labels).set(figure.remaining)
            }
            previousBudgets = current
            for (scope, count) in exhausted {
                registry.makeGauge(descriptor: Self.budgetsExhausted, labels: [("scope", scope)]).set(Double(count))
            }
            for figure in deployments {
                let labels = [("model_group", figure.modelGroup), ("deployment", figure.deployment)]
                registry.makeGauge(descriptor: Self.deploymentState, labels: labels).set(figure.coolingDown ? 1.0 : 0.0)
                Self.set(registry.makeCounter(descriptor: Self.cooldowns, labels: labels), to: figure.cooldowns)
            }
            for stats in sinks {
                let labels = [("sink", stats.sink)]
                Self.set(registry.makeCounter(descriptor: Self.sinkExported, labels: labels), to: stats.exported)
                Self.set(registry.makeCounter(descriptor: Self.sinkFailed, labels: labels), to: stats.failedAttempts)
                Self.set(registry.makeCounter(descriptor: Self.sinkDropped, labels: labels), to: stats.dropped)
                registry.makeGauge(descriptor: Self.sinkQueueDepth, labels: labels).set(Double(stats.queueDepth))
            }
            var out: [UInt8] = []
            out.reserveCapacity(16 * 1024)
            registry.emit(into: &out)
            if let litellm {
                let created = format == .prometheusText
                out += litellm.render(deployments: deployments, budgets: budgetRecords, inFlight: inFlight, created: created).utf8
            }
            guard format == .openMetrics else { return out }
            let exemplars = exemplars.snapshot()
            return OpenMetricsText.convert(out) { family, labels, upperBound in
                exemplars[ExemplarStore.Series(family: family, labels: labels)]?.exemplar(upperBound: upperBound)
            }
        }
    }

    public static let contentType = MetricsFormat.prometheusText.contentType

    // MetricNameDescriptor is not Sendable, so the descriptors are computed, not stored.
    /// The standard `process_*` series, as Prometheus's client libraries name them.
    private func record(_ process: ProcessFigures) {
        let cpu = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "process_cpu_seconds", unitName: "total", helpText: "Total user and system CPU time spent in seconds."
            ))
        cpu.reset()
        cpu.increment(by: process.cpuSeconds)
        let gauges: [(String, String, Double?)] = [
            ("process_resident_memory_bytes", "Resident memory size in bytes.", process.residentMemoryBytes),
            ("process_virtual_memory_bytes", "Virtual memory size in bytes.", process.virtualMemoryBytes),
            ("process_open_fds", "Number of open file descriptors.", Double(process.openFileDescriptors)),
            ("process_max_fds", "Maximum number of open file descriptors.", process.maxFileDescriptors.map(Double.init)),
            ("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", process.startTimeSeconds),
        ]
        for (name, help, value) in gauges {
            guard let value else { continue }
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help)).set(value)
        }
    }

    private static func set(_ counter: Prometheus.Counter, to value: Int) {
        counter.reset()
        counter.increment(by: Int64(value))
    }

    /// The retry and fallback series at 0 before their first event, so that a rate or an alert on
    /// them reads 0 rather than nothing: retries for each model group, fallbacks for each configured
    /// `from → to` pair with its reason (`error`, `context_window`, `content_policy`); `defaults`
    /// (LiteLLM's `default_fallbacks`) apply to every group without fallbacks of its own.
    public func declare(
        modelGroups: [String], fallbacks: [String: [String]], contextWindow: [String: [String]] = [:],
        contentPolicy: [String: [String]] = [:], defaults: [String] = []
    ) {
        for group in modelGroups {
            counter("retries", Self.retries, [("model_group", group)]).increment(by: Int64(0))
        }
        var routes: [(from: String, to: String, reason: String)] = []
        for (reason, table) in [("error", fallbacks), ("context_window", contextWindow), ("content_policy", contentPolicy)] {
            for (from, targets) in table.sorted(by: { $0.key < $1.key }) {
                routes += targets.map { (from, $0, reason) }
            }
        }
        for group in modelGroups where fallbacks[group] == nil {
            routes += defaults.filter { $0 != group }.map { (group, $0, "error") }
        }
        for route in routes {
            let labels = [("from", route.from), ("to", route.to), ("reason", route.reason)]
            registry.makeCounter(descriptor: Self.fallbacks, labels: labels).increment(by: Int64(0))
            litellm?.declareFallback(from: route.from, to: route.to)
        }
    }

    /// A request that failed over from one model group to another.
    public func countFallback(from: String, to: String, reason: String) {
        registry.makeCounter(descriptor: Self.fallbacks, labels: [("from", from), ("to", to), ("reason", reason)]).increment()
    }

    /// Shared state (Redis) calls that failed, and whether limits are per replica meanwhile.
    public func countSharedStateError() {
        registry.makeCounter(descriptor: Self.sharedStateErrors).increment()
    }

    public func setSharedStateDegraded(_ degraded: Bool) {
        registry.makeGauge(descriptor: Self.sharedStateDegraded).set(degraded ? 1.0 : 0.0)
    }

    /// Declares the shared-state series at zero, so a dashboard sees them before the first failure.
    public func declareSharedState() {
        registry.makeCounter(descriptor: Self.sharedStateErrors).increment(by: Int64(0))
        setSharedStateDegraded(false)
    }

    static var sharedStateErrors: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "shared_state_errors", unitName: "total",
            helpText: "Calls to the shared state (Redis) that failed or timed out.")
    }

    static var sharedStateDegraded: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "shared_state_degraded",
            helpText:
                "1 while the shared state (Redis) is unreachable and limits are kept per replica (fail-open) or refused (fail-closed)."
        )
    }

    static var retries: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "retries", unitName: "total",
            helpText: "Upstream calls beyond the first per request (retries and fallbacks), by requested model group.")
    }
    static var fallbacks: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "fallbacks", unitName: "total",
            helpText:
                "Requests sent on to a fallback model group, by from, to and reason (error, context_window, content_policy).")
    }
    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "requests", unitName: "total",
            helpText: "Requests answered by the gateway, by model group, provider, team, key alias and status.")
    }
    static var tokens: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "tokens", unitName: "total",
            helpText: "Tokens used, by type (input, output, cache_read, cache_creation, reasoning).")
    }
    static var spend: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "spend_usd", unitName: "total", helpText: "Spend in US dollars.")
    }
    static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "request_duration", unitName: "seconds",
            helpText: "Whole-request latency as the client saw it.")
    }
    static var overhead: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "overhead", unitName: "seconds",
            helpText: "Time the gateway itself added: request time minus time waiting on upstreams.")
    }
    static var operationDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "gen_ai_client_operation_duration", unitName: "seconds",
            helpText: "GenAI operation duration (OpenTelemetry gen_ai.client.operation.duration).")
    }
    static var timeToFirstChunk: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "gen_ai_client_operation_time_to_first_chunk", unitName: "seconds",
            helpText: "Time to the first streamed chunk (gen_ai.client.operation.time_to_first_chunk).")
    }
    static var tokenUsage: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "gen_ai_client_token_usage", unitName: "",
            helpText: "Tokens per operation by gen_ai_token_type (gen_ai.client.token.usage).")
    }
    static var budgetRemaining: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "budget_remaining_usd", unitName: "",
            helpText:
                "Budget left this period (max_budget minus spend; negative when overspent), per aliased key, team or organization."
        )
    }
    static var inFlight: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "requests_in_flight", unitName: "",
            helpText: "Requests the gateway has taken and not yet settled (streams until their last byte).")
    }
    static var budgetsExhausted: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "budgets_exhausted", unitName: "",
            helpText: "Budgets spent to their max_budget, by scope (key, team, user, organization).")
    }
    static var unpriced: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "unpriced_requests", unitName: "total",
            helpText: "Answered requests with token usage but no known price (their cost counted as 0), by model group.")
    }
    static var deploymentState: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "deployment_state", unitName: "",
            helpText: "Deployment health for the router: 0 healthy, 1 cooling down.")
    }
    static var cooldowns: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "cooldowns", unitName: "total",
            helpText: "Times a deployment was taken out of routing for its cooldown_time.")
    }
    static var sinkExported: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "sink_exported", unitName: "total",
            helpText: "Requests delivered to a telemetry sink.")
    }
    static var sinkFailed: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "sink_failed", unitName: "total",
            helpText: "Failed delivery attempts to a telemetry sink (each retry counts).")
    }
    static var sinkDropped: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "sink_dropped", unitName: "total",
            helpText: "Requests a telemetry sink lost: its queue was full or delivery was given up.")
    }
    static var sinkQueueDepth: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "spanway", metricName: "sink_queue_depth", unitName: "",
            helpText: "Requests waiting in a telemetry sink's queue.")
    }
}
