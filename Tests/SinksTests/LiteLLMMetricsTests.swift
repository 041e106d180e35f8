import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// LiteLLM's series as Python's `prometheus_client` writes them (text format 0.0.4): a counter
/// `x` is `x_total` plus an `x_created` gauge, histograms use LiteLLM's buckets, a missing label
/// value is `None`, the master key is `litellm_proxy_master_key`. The expected text is written
/// from those rules, not read back from the code.
@Suite struct LiteLLMMetricsTests {
    static let created = 1_764_493_054.5
    /// `floatToGoString(1764493054.5)`: more than six digits before the point, so Go's exponent form.
    static let createdText = "1.7644930545e+09"
    /// A key's SHA-256 as the authenticator records it (any 64 hex digits do here).
    static let digest = "88dc28d0f030c55ed5ab2ed79f8e7e3f8bd3ff5d3d8ba9a3a0a14d4f0f4d6b4b"
    static let deployments = [
        LiteLLMMetrics.Deployment(
            id: "d1", modelGroup: "primary", model: "gpt-4o-mini", provider: "openai", apiBase: "https://api.openai.com"),
        LiteLLMMetrics.Deployment(
            id: "d2", modelGroup: "backup", model: "claude-3-5-haiku", provider: "anthropic", apiBase: nil),
    ]

    static func metrics() -> LiteLLMMetrics {
        LiteLLMMetrics(deployments: deployments, now: { created })
    }

    static func attempt(group: String, deployment: String, status: Int?, errorType: String? = nil) -> Attributes {
        var attributes = Attributes()
        attributes[AttributeName.modelGroup] = .string(group)
        attributes[AttributeName.deploymentID] = .string(deployment)
        if let status { attributes[AttributeName.httpResponseStatusCode] = .int(Int64(status)) }
        if let errorType { attributes[AttributeName.errorType] = .string(errorType) }
        return attributes
    }

    /// A streamed answer from d1 for the key `digest` (alias with a quote, backslash and line feed).
    static func success() -> FinishedSpan {
        var route = Attributes()
        route[AttributeName.httpRoute] = .string("/v1/chat/completions")
        let start = FinishedSpanBuilder.start
        return FinishedSpanBuilder(attributes: route)
            .attempt(start: start, end: start + 200_000_000, attributes: attempt(group: "primary", deployment: "d1", status: nil))
            .summary { s in
                s.requestModel = "fast"
                s.modelGroup = "primary"
                s.deploymentID = "d1"
                s.provider = "openai"
                s.caller = Caller(keyHash: digest, keyAlias: "q\"x\\y\nz", teamID: "t-1", teamAlias: "search")
                s.statusCode = 200
                s.stream = true
                s.usage = Usage(inputTokens: 10, outputTokens: 5)
                s.costUSD = 0.25
                s.attempts = 1
                s.durationSeconds = 0.3
                s.timeToFirstChunkSeconds = 0.07
                s.overheadSeconds = 0.002
            }
            .build()
    }

    static func text(
        _ metrics: LiteLLMMetrics, deployments: [PrometheusSink.DeploymentFigure] = [], budgets: [LiteLLMMetrics.Budget] = []
    )
        -> String
    {
        metrics.render(deployments: deployments, budgets: budgets, inFlight: 2)
    }

    @Test func countersAreTotalWithACreatedGaugeAndLabelsAreEscaped() throws {
        let metrics = Self.metrics()
        metrics.observe(Self.success())
        let text = Self.text(metrics)
        let lines = text.split(separator: "\n").map(String.init)
        // Family headers as prometheus_client writes them: `_total` on the counter, `_created` a gauge after it.
        let typeTotal = try #require(lines.firstIndex(of: "# TYPE litellm_spend_metric_total counter"))
        let typeCreated = try #require(lines.firstIndex(of: "# TYPE litellm_spend_metric_created gauge"))
        #expect(typeTotal < typeCreated)
        #expect(lines.contains("# TYPE litellm_request_total_latency_metric histogram"))
        #expect(lines.contains("# TYPE litellm_request_total_latency_metric_created gauge"))
        #expect(lines.contains("# TYPE litellm_in_flight_requests gauge"))
        #expect(!lines.contains { $0.hasPrefix("litellm_in_flight_requests_created") })
        #expect(lines.contains("litellm_in_flight_requests 2.0"))
        // The escaped alias, verbatim: \" for the quote, \\ for the backslash, \n for the line feed.
        #expect(text.contains(#"api_key_alias="q\"x\\y\nz""#))

        let exposition = try MetricsExposition(text)
        let spend = [
            "end_user": "None", "hashed_api_key": Self.digest, "api_key_alias": "q\"x\\y\nz", "model": "gpt-4o-mini",
            "team": "t-1", "team_alias": "search", "user": "None", "user_email": "None", "client_ip": "None",
            "user_agent": "None", "requested_model": "fast", "model_id": "d1", "api_provider": "openai",
            "service_tier": "None", "org_id": "None", "org_alias": "None",
        ]
        let sample = try #require(exposition.samples("litellm_spend_metric_total").first)
        #expect(sample.labels == spend)
        #expect(sample.value == 0.25)
        #expect(exposition.samples("litellm_spend_metric_created").first?.labels == spend)
        #expect(text.contains("} \(Self.createdText)\n"))
        let tokens = ["model": "gpt-4o-mini", "requested_model": "fast"]
        #expect(try exposition.value(of: "litellm_total_tokens_metric_total", labels: tokens) == 15)
        #expect(try exposition.value(of: "litellm_input_tokens_metric_total", labels: tokens) == 10)
        #expect(try exposition.value(of: "litellm_output_tokens_metric_total", labels: tokens) == 5)
        #expect(try exposition.value(of: "litellm_requests_metric_total", labels: tokens) == 1)
        let total = try #require(exposition.samples("litellm_proxy_total_requests_metric_total").first)
        #expect(total.labels["status_code"] == "200")
        #expect(total.labels["route"] == "/v1/chat/completions")
        #expect(Set(total.labels.keys) == Set(LiteLLMMetric.proxyTotalRequests.labelNames))
    }

    @Test func histogramsUseLiteLLMsBucketsInSeconds() throws {
        let metrics = Self.metrics()
        metrics.observe(Self.success())
        let text = Self.text(metrics)
        // LiteLLM's bounds, spelled as Python's repr of a float; 0.3 s falls in (0.25, 0.5].
        let bounds = [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.0", "5.0", "10.0", "30.0", "60.0", "120.0",
            "300.0", "420.0", "600.0", "+Inf",
        ]
        let exposition = try MetricsExposition(text)
        let buckets = exposition.samples("litellm_request_total_latency_metric_bucket")
        #expect(buckets.map { $0.labels["le"] ?? "" } == bounds)
        #expect(buckets.map(\.value) == [0, 0, 0, 0, 0, 0] + Array(repeating: 1, count: 12))
        #expect(try exposition.value(of: "litellm_request_total_latency_metric_sum") == 0.3)
        #expect(try exposition.value(of: "litellm_request_total_latency_metric_count") == 1)
        // The upstream call took 0.2 s; the first token came after 0.07 s (a stream).
        #expect(try exposition.value(of: "litellm_llm_api_latency_metric_sum") == 0.2)
        #expect(try exposition.value(of: "litellm_llm_api_time_to_first_token_metric_sum") == 0.07)
        let overhead = try #require(exposition.samples("litellm_overhead_latency_metric_count").first)
        #expect(overhead.labels["litellm_model_name"] == "gpt-4o-mini")
        #expect(overhead.labels["api_base"] == "https://api.openai.com")
        #expect(text.contains("litellm_request_total_latency_metric_created{"))
    }

    @Test func theMasterKeyAndRefusedRequests() throws {
        let metrics = Self.metrics()
        metrics.observe(
            Self.success().with { s in s.caller = Caller(keyHash: "master", keyAlias: "master") })
        // Refused before routing: no provider, no deployment.
        let refused = FinishedSpanBuilder().summary { s in
            s.requestModel = "fast"
            s.statusCode = 401
            s.errorType = "authentication"
        }
        metrics.observe(refused.build())
        let exposition = try MetricsExposition(Self.text(metrics))
        let master = try #require(
            exposition.samples("litellm_spend_metric_total", matching: ["hashed_api_key": "litellm_proxy_master_key"]).first)
        #expect(master.labels["user"] == "default_user_id")
        #expect(master.labels["api_key_alias"] == "None")
        let failed = try #require(exposition.samples("litellm_proxy_failed_requests_metric_total").first)
        #expect(failed.labels["exception_status"] == "401")
        #expect(failed.labels["exception_class"] == "ProxyException")
        #expect(failed.labels["hashed_api_key"] == "None")
        #expect(failed.labels["model_id"] == "None")
        #expect(try exposition.value(of: "litellm_proxy_total_requests_metric_total", labels: ["status_code": "401"]) == 1)
        // A refused request reached no LLM.
        #expect(exposition.samples("litellm_llm_api_failed_requests_metric_total").isEmpty)
    }

    @Test func deploymentStateFailuresCooldownsAndFallbacks() throws {
        let metrics = Self.metrics()
        metrics.declareFallback(from: "primary", to: "backup")
        var before = try MetricsExposition(Self.text(metrics))
        let pair = ["requested_model": "primary", "fallback_model": "backup"]
        #expect(try before.value(of: "litellm_deployment_successful_fallbacks_total", labels: pair) == 0)
        #expect(try before.value(of: "litellm_deployment_failed_fallbacks_total", labels: pair) == 0)
        // Healthy before any call.
        #expect(try before.value(of: "litellm_deployment_state", labels: ["model_id": "d1"]) == 0)

        // d1 (primary) is rate limited; the fallback group's d2 answers.
        let start = FinishedSpanBuilder.start
        let request = FinishedSpanBuilder()
            .attempt(
                start: start, end: start + 1_000_000,
                attributes: Self.attempt(group: "primary", deployment: "d1", status: 429, errorType: "rate_limit_exceeded"),
                status: .error(message: "limited")
            )
            .attempt(attributes: Self.attempt(group: "backup", deployment: "d2", status: nil))
            .summary { s in
                s.requestModel = "primary"
                s.modelGroup = "backup"
                s.deploymentID = "d2"
                s.provider = "anthropic"
                s.statusCode = 200
                s.attempts = 2
                s.fallbackDepth = 1
                s.caller = Caller(keyHash: Self.digest, keyAlias: "ci")
            }
        metrics.observe(request.build())
        let cooling = [
            PrometheusSink.DeploymentFigure(modelGroup: "primary", deployment: "d1", coolingDown: false, cooldowns: 0),
            PrometheusSink.DeploymentFigure(modelGroup: "backup", deployment: "d2", coolingDown: false, cooldowns: 0),
        ]
        before = try MetricsExposition(Self.text(metrics, deployments: cooling))
        #expect(try before.value(of: "litellm_deployment_state", labels: ["model_id": "d1"]) == 1)
        #expect(try before.value(of: "litellm_deployment_state", labels: ["model_id": "d2"]) == 0)
        let failure = try #require(before.samples("litellm_deployment_failure_responses_total").first)
        #expect(failure.labels["exception_class"] == "Openai.RateLimitError")
        #expect(failure.labels["exception_status"] == "429")
        #expect(failure.labels["litellm_model_name"] == "gpt-4o-mini")
        #expect(failure.labels["model_group"] == "primary")
        #expect(failure.labels["requested_model"] == "primary")
        #expect(try before.value(of: "litellm_deployment_total_requests_total", labels: ["model_id": "d1"]) == 1)
        #expect(try before.value(of: "litellm_deployment_success_responses_total", labels: ["model_id": "d2"]) == 1)
        #expect(try before.value(of: "litellm_llm_api_failed_requests_metric_total", labels: ["model_id": "d1"]) == 1)
        let fallback = try #require(
            before.samples(
                "litellm_deployment_successful_fallbacks_total", matching: pair.merging(["hashed_api_key": Self.digest]) { $1 }
            ).first)
        #expect(fallback.value == 1)
        #expect(fallback.labels["exception_class"] == "Openai.RateLimitError")
        // Deployment d2's api_base is unknown: None, like any missing value.
        #expect(try before.value(of: "litellm_deployment_state", labels: ["model_id": "d2", "api_base": "None"]) == 0)

        // d1 now cools down: a complete outage (2), counted once per cooldown with its last status.
        let cooled = [
            PrometheusSink.DeploymentFigure(modelGroup: "primary", deployment: "d1", coolingDown: true, cooldowns: 1)
        ]
        let after = try MetricsExposition(Self.text(metrics, deployments: cooled))
        #expect(try after.value(of: "litellm_deployment_state", labels: ["model_id": "d1"]) == 2)
        #expect(
            try after.value(of: "litellm_deployment_cooled_down_total", labels: ["model_id": "d1", "exception_status": "429"])
                == 1)
        let again = try MetricsExposition(Self.text(metrics, deployments: cooled))
        #expect(try again.value(of: "litellm_deployment_cooled_down_total", labels: ["model_id": "d1"]) == 1)
    }

    @Test func budgetsByKeyDigestAndTeamWithInfinityWhenUnset() throws {
        let metrics = Self.metrics()
        metrics.observe(Self.success())
        let budgets = [
            LiteLLMMetrics.Budget(scope: .key, id: "k2", alias: "batch", maxBudget: 10, spend: 2.5),
            LiteLLMMetrics.Budget(scope: .team, id: "t-2", alias: nil, maxBudget: 50, spend: 60),
        ]
        let text = Self.text(metrics, budgets: budgets)
        let exposition = try MetricsExposition(text)
        #expect(
            try exposition.value(
                of: "litellm_remaining_api_key_budget_metric", labels: ["hashed_api_key": "k2", "api_key_alias": "batch"]) == 7.5)
        #expect(try exposition.value(of: "litellm_api_key_max_budget_metric", labels: ["hashed_api_key": "k2"]) == 10)
        // The key seen in traffic has no budget: +Inf remaining, no max.
        #expect(text.contains("litellm_remaining_api_key_budget_metric{hashed_api_key=\"\(Self.digest)\",api_key_alias="))
        #expect(
            try exposition.value(of: "litellm_remaining_api_key_budget_metric", labels: ["hashed_api_key": Self.digest])
                == .infinity)
        #expect(exposition.samples("litellm_api_key_max_budget_metric", matching: ["hashed_api_key": Self.digest]).isEmpty)
        #expect(
            try exposition.value(of: "litellm_remaining_team_budget_metric", labels: ["team": "t-2", "team_alias": "None"])
                == -10)
        #expect(
            try exposition.value(of: "litellm_remaining_team_budget_metric", labels: ["team": "t-1", "team_alias": "search"])
                == .infinity)
        #expect(text.contains("+Inf\n"))
        // A budget gone from the store is gone from the next scrape.
        let later = try MetricsExposition(Self.text(metrics, budgets: []))
        #expect(later.samples("litellm_remaining_api_key_budget_metric", matching: ["hashed_api_key": "k2"]).isEmpty)
    }

    @Test func everyMetricHasDistinctLabelNames() {
        for metric in LiteLLMMetric.allCases {
            #expect(Set(metric.labelNames).count == metric.labelNames.count, "\(metric.name)")
        }
    }

    @Test func numbersAsPrometheusClientSpellsThem() {
        #expect(LiteLLMRegistry.number(1) == "1.0")
        #expect(LiteLLMRegistry.number(0.005) == "0.005")
        #expect(LiteLLMRegistry.number(600) == "600.0")
        #expect(LiteLLMRegistry.number(1_234_567) == "1.234567e+06")
        #expect(LiteLLMRegistry.number(123_456) == "123456.0")
        #expect(LiteLLMRegistry.number(.infinity) == "+Inf")
        #expect(LiteLLMRegistry.number(-.infinity) == "-Inf")
        #expect(LiteLLMRegistry.number(.nan) == "NaN")
        #expect(LiteLLMRegistry.number(-10) == "-10.0")
    }

    @Test func offByDefaultAndSpanwaySeriesFromTheStart() throws {
        let plain = PrometheusSink()
        plain.declare(modelGroups: ["primary", "backup"], fallbacks: ["primary": ["backup"]], contextWindow: ["backup": ["big"]])
        plain.observe(Self.success())
        let text = String(decoding: plain.render(sinks: []), as: UTF8.self)
        #expect(!text.contains("litellm_"))
        let exposition = try MetricsExposition(text)
        #expect(try exposition.value(of: "spanway_retries_total", labels: ["model_group": "primary"]) == 0)
        #expect(try exposition.value(of: "spanway_retries_total", labels: ["model_group": "backup"]) == 0)
        #expect(
            try exposition.value(
                of: "spanway_fallbacks_total", labels: ["from": "primary", "to": "backup", "reason": "error"]) == 0)
        #expect(
            try exposition.value(
                of: "spanway_fallbacks_total", labels: ["from": "backup", "to": "big", "reason": "context_window"]) == 0)
        // The team's alias beside the team, and the key's alias (never its digest).
        let requests = try #require(exposition.samples("spanway_requests_total").first)
        #expect(requests.labels["team_alias"] == "search")
        #expect(requests.labels["team"] != nil)
        #expect(!requests.labels.values.contains(Self.digest))

        let both = PrometheusSink(litellm: Self.metrics())
        both.declare(modelGroups: ["primary"], fallbacks: ["primary": ["backup"]])
        let withLiteLLM = try MetricsExposition(String(decoding: both.render(sinks: []), as: UTF8.self))
        #expect(
            try withLiteLLM.value(
                of: "litellm_deployment_failed_fallbacks_total",
                labels: ["requested_model": "primary", "fallback_model": "backup"])
                == 0)
        // OpenMetrics names a counter's family without `_total` and has no `_created` gauges.
        let open = String(decoding: both.render(sinks: [], format: .openMetrics), as: UTF8.self)
        #expect(open.contains("# TYPE litellm_deployment_failed_fallbacks counter\n"))
        #expect(open.contains("\nlitellm_deployment_failed_fallbacks_total{"))
        #expect(!open.contains("_created"))
        #expect(open.hasSuffix("# EOF\n"))
    }
}
