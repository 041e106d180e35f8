import Foundation
import GatewayTesting
import Telemetry
import TelemetryTesting
import Testing

/// LiteLLM's own Grafana dashboards (`dashboards/litellm/`, copied from LiteLLM's cookbook) work
/// unchanged against a gateway with `prometheus_names: [spanway, litellm]`: every query's metric
/// and label names exist in a scrape after real traffic (an answer, a stream, a failure, a
/// fallback, a refused request, a budgeted key and team), and every query returns data from a
/// real Prometheus scraping the gateway.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LiteLLMDashboardTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("dashboards/litellm")

    /// Names the dashboards query that LiteLLM 1.108.7 itself no longer emits, so they read
    /// nothing against LiteLLM too: the rate-limit gauges were renamed `…_metric`, the token
    /// counter `litellm_total_tokens_metric`, and the self-latency histogram is a service metric
    /// of `prometheus_system`.
    static let notEmittedByLiteLLM: Set = [
        "litellm_remaining_requests", "litellm_remaining_tokens", "litellm_total_tokens_total",
        "litellm_self_latency_bucket",
    ]

    static let config = """
        router_settings:
          allowed_fails: 1
          cooldown_time: 600
          fallbacks: [{primary: [backup]}]
        spanway_settings:
          prometheus_names: [spanway, litellm]
        model_list:
          - {model_name: chat, litellm_params: {model: mock/gpt-4o-mini}}
          - model_name: primary
            litellm_params: {model: openai/error-500, api_base: "{upstream}"}
            model_info: {id: failing}
          - {model_name: backup, litellm_params: {model: mock/gpt-4o-mini}}
          - model_name: broken
            litellm_params: {model: openai/error-503, api_base: "{upstream}"}
            model_info: {id: broken}
        general_settings:
          master_key: sk-e2e-master
        """

    /// A custom key, and its SHA-256 (hex), worked out with `printf %s KEY | sha256sum`.
    static let budgetedKey = "sk-litellm-dash-budgeted-0001"
    static let budgetedKeyDigest = "a59428cf7d9d8fb5f594b93b626dd772e277856ba8d0ade710911d47779b092d"

    /// The panel expressions of every dashboard in `dashboards/litellm/`.
    static func expressions() throws -> [(dashboard: String, expression: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
            .sorted()
        var found: [(String, String)] = []
        for name in names {
            let json = try JSONParser.parse(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
            var panels = json["panels"]?.arrayValue ?? []
            while let panel = panels.popLast() {
                panels += panel["panels"]?.arrayValue ?? []
                for target in panel["targets"]?.arrayValue ?? [] {
                    if let expression = target["expr"]?.stringValue { found.append((name, expression)) }
                }
            }
        }
        return found
    }

    /// The metric names (`litellm_…`) and label names a PromQL expression refers to: the label
    /// names in `by (…)`, `without (…)` and `{…}` matchers.
    static func references(_ expression: String) throws -> (metrics: Set<String>, labels: Set<String>) {
        var metrics = Set<String>()
        for match in expression.matches(of: try Regex(#"[a-zA-Z_:][a-zA-Z0-9_:]*"#)) {
            let name = String(expression[match.range])
            if name.hasPrefix("litellm_") { metrics.insert(name) }
        }
        var labels = Set<String>()
        for match in expression.matches(of: try Regex(#"(?:by|without)\s*\(([^)]*)\)"#)) {
            let list = match.output[1].substring ?? ""
            for label in list.split(separator: ",") { labels.insert(label.trimmingCharacters(in: .whitespaces)) }
        }
        for match in expression.matches(of: try Regex(#"\{([^}]*)\}"#)) {
            let matchers = String(match.output[1].substring ?? "")
            for name in matchers.matches(of: try Regex(#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)"#)) {
                labels.insert(String(name.output[1].substring ?? ""))
            }
        }
        return (metrics, labels.subtracting([""]))
    }

    @Test func theExpressionReaderFindsMetricsAndLabels() throws {
        let found = try Self.references(
            #"histogram_quantile(0.5, sum(rate(litellm_x_bucket{self="a", b=~"c"}[2m])) by (le, team))"#)
        #expect(found.metrics == ["litellm_x_bucket"])
        #expect(found.labels == ["self", "b", "le", "team"])
        #expect(try Self.expressions().count >= 14, "both dashboards' targets")
    }

    /// An answer, a stream, a fallback (primary's upstream fails, backup answers), an outright
    /// failure (503), an unknown model (404) and a refused key (401), from the budgeted key of a
    /// budgeted team and from the master key.
    static func sendTraffic(_ h: Harness) async throws {
        for key in [budgetedKey, Harness.master] {
            for model in ["chat", "primary", "broken", "no-such-model"] {
                _ = try await h.send(
                    "/v1/chat/completions", json: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#, key: key)
            }
            let stream = try await h.send(
                "/v1/chat/completions", json: #"{"model":"chat","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
                key: key)
            #expect(stream.status == 200)
        }
        let refused = try await h.send(
            "/v1/chat/completions", json: #"{"model":"chat","messages":[{"role":"user","content":"hi"}]}"#, key: "sk-not-a-key")
        #expect(refused.status == 401)
    }

    @Test func everyQueryNamesSeriesAndLabelsTheGatewayExposes() async throws {
        try await Harness.with(config: Self.config) { h in
            let before = try await h.exposition()
            // Present before any request: the fallback counters of the configured fallback, at 0.
            let pair = ["requested_model": "primary", "fallback_model": "backup"]
            #expect(try before.value(of: "litellm_deployment_successful_fallbacks_total", labels: pair) == 0)
            #expect(try before.value(of: "spanway_fallbacks_total", labels: ["from": "primary", "to": "backup"]) == 0)
            #expect(try before.value(of: "spanway_retries_total", labels: ["model_group": "chat"]) == 0)

            try await Self.makeBudgets(h)
            try await Self.sendTraffic(h)
            let scrape = try await h.exposition()

            for (dashboard, expression) in try Self.expressions() {
                let (metrics, labels) = try Self.references(expression)
                let known = metrics.subtracting(Self.notEmittedByLiteLLM)
                for metric in known {
                    #expect(!scrape.samples(metric).isEmpty, "\(dashboard): \(metric) in \(expression)")
                }
                guard !known.isEmpty else { continue }
                let samples = known.flatMap { scrape.samples($0) }
                for label in labels {
                    #expect(samples.contains { $0.labels[label] != nil }, "\(dashboard): label \(label) in \(expression)")
                }
            }

            // Every LiteLLM family Spanway exposes has samples after this traffic; the cooldown
            // counter needs a cooldown, which the router's own tests drive.
            for metric in [
                "litellm_proxy_total_requests_metric_total", "litellm_proxy_failed_requests_metric_total",
                "litellm_request_total_latency_metric_bucket", "litellm_llm_api_latency_metric_bucket",
                "litellm_llm_api_time_to_first_token_metric_bucket", "litellm_overhead_latency_metric_bucket",
                "litellm_in_flight_requests", "litellm_spend_metric_total", "litellm_requests_metric_total",
                "litellm_total_tokens_metric_total", "litellm_input_tokens_metric_total", "litellm_output_tokens_metric_total",
                "litellm_llm_api_failed_requests_metric_total", "litellm_deployment_state",
                "litellm_deployment_success_responses_total", "litellm_deployment_total_requests_total",
                "litellm_deployment_failure_responses_total", "litellm_deployment_successful_fallbacks_total",
                "litellm_deployment_failed_fallbacks_total", "litellm_remaining_team_budget_metric",
                "litellm_team_max_budget_metric", "litellm_remaining_api_key_budget_metric",
                "litellm_api_key_max_budget_metric", "litellm_spend_metric_created",
            ] {
                #expect(!scrape.samples(metric).isEmpty, "\(metric)")
            }
            #expect(scrape.types["litellm_deployment_cooled_down_total"] == "counter")
            try Self.checkLabelValues(scrape)
        }
    }

    /// A team "Search" (budget 10) and its key "search-app" (budget 5), with a custom key so that
    /// its digest is known here.
    static func makeBudgets(_ h: Harness) async throws {
        let team = #"{"team_id":"team-search","team_alias":"Search","max_budget":10}"#
        #expect(try await h.send("/team/new", json: team).status == 200)
        let key = try await h.send(
            "/key/generate",
            json: #"{"key":"\#(budgetedKey)","team_id":"team-search","key_alias":"search-app","max_budget":5}"#)
        #expect(key.status == 200, "\(key.text)")
    }

    /// LiteLLM's label conventions on what the traffic left.
    static func checkLabelValues(_ scrape: MetricsExposition) throws {
        let mine = ["hashed_api_key": budgetedKeyDigest, "api_key_alias": "search-app", "team": "team-search"]
        let answered = scrape.samples("litellm_requests_metric_total", matching: mine.merging(["requested_model": "chat"]) { $1 })
        #expect(answered.count == 1 && answered.first?.labels["model"] == "gpt-4o-mini", "\(answered)")
        #expect(answered.first?.labels["team_alias"] == "Search")
        #expect(answered.first?.labels["end_user"] == "None")
        let master = scrape.samples("litellm_requests_metric_total", matching: ["hashed_api_key": "litellm_proxy_master_key"])
        #expect(!master.isEmpty && master.allSatisfy { $0.labels["user"] == "default_user_id" })
        // The fallback from primary to backup answered, after primary's upstream failed with a 500.
        let fallback = scrape.samples("litellm_deployment_successful_fallbacks_total", matching: mine)
        #expect(fallback.count == 1 && fallback.first?.value == 1, "\(fallback)")
        #expect(fallback.first?.labels["requested_model"] == "primary" && fallback.first?.labels["fallback_model"] == "backup")
        let failures = scrape.samples("litellm_proxy_failed_requests_metric_total", matching: mine)
        #expect(Set(failures.map { $0.labels["exception_status"] ?? "" }).isSuperset(of: ["404"]), "\(failures)")
        #expect(failures.allSatisfy { ($0.labels["exception_class"] ?? "").isEmpty == false })
        // The refused key: no digest recorded for a key that is not one.
        let refused = scrape.samples("litellm_proxy_failed_requests_metric_total", matching: ["exception_status": "401"])
        #expect(refused.count == 1 && refused.first?.labels["hashed_api_key"] == "None", "\(refused)")

        // Budgets: the key's and team's maximum, and what is left after this traffic's spend.
        let keyMax = try scrape.value(of: "litellm_api_key_max_budget_metric", labels: ["hashed_api_key": budgetedKeyDigest])
        #expect(keyMax == 5)
        let keyLeft = try #require(
            try scrape.value(of: "litellm_remaining_api_key_budget_metric", labels: ["hashed_api_key": budgetedKeyDigest]))
        #expect(keyLeft < 5 && keyLeft > 4)
        let teamLabels = ["team": "team-search", "team_alias": "Search"]
        #expect(try scrape.value(of: "litellm_team_max_budget_metric", labels: teamLabels) == 10)
        let teamLeft = try #require(try scrape.value(of: "litellm_remaining_team_budget_metric", labels: teamLabels))
        #expect(abs((10 - teamLeft) - (5 - keyLeft)) < 1e-9, "the team spent what its only key spent")
        // The master key has no budget: +Inf.
        #expect(
            try scrape.value(
                of: "litellm_remaining_api_key_budget_metric", labels: ["hashed_api_key": "litellm_proxy_master_key"])
                == .infinity)
        // Spanway's own series: the team's alias beside the team; no key digest anywhere.
        let spanway = scrape.samples("spanway_requests_total", matching: ["team_alias": "Search"])
        #expect(!spanway.isEmpty)
        #expect(
            !scrape.samples.contains { $0.name.hasPrefix("spanway_") && $0.labels.values.contains(budgetedKeyDigest) })
    }

    @Test(
        .enabled(
            if: PrometheusServer.isInstalled, "needs Debian's prometheus at /usr/bin/prometheus (apt-get install prometheus)"))
    func everyQueryReturnsDataFromAPrometheusScrapingTheGateway() async throws {
        try await Harness.with(config: Self.config) { h in
            try await Self.makeBudgets(h)
            try await Self.sendTraffic(h)
            try await PrometheusServer.with(scraping: "127.0.0.1:\(h.gatewayPort)", ruleFiles: [], features: [], http: h.client) {
                prometheus in
                try await prometheus.waitUntil("two successful scrapes of the gateway") {
                    let up = try await prometheus.values(#"sum_over_time(up{job="spanway"}[5m])"#, by: "job")
                    return (up["spanway"] ?? 0) >= 2
                }
                // A second round, so that rate() and increase() see the counters move.
                try await Self.sendTraffic(h)
                for (dashboard, expression) in try Self.expressions() {
                    let (metrics, _) = try Self.references(expression)
                    guard metrics.isDisjoint(with: Self.notEmittedByLiteLLM) else { continue }
                    let last = await prometheus.dataQuery(expression, timeout: .seconds(30))
                    #expect(last.succeeded, "\(dashboard): \(expression): \(last.error ?? "")")
                    #expect(!last.finiteSamples.isEmpty, "\(dashboard): \(expression) returned no data")
                }
            }
        }
    }
}
