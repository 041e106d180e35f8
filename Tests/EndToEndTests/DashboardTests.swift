import Foundation
import GatewayTesting
import Telemetry
import Testing

/// The shipped Grafana dashboards and Prometheus alerting rules (`dashboards/`), checked as
/// files and then run: a real Prometheus scrapes a gateway under mock traffic, and every panel
/// expression and alert expression is evaluated through its HTTP API.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DashboardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = root.appendingPathComponent("dashboards")
    static let alertRules = directory.appendingPathComponent("alerts.yaml")

    /// The views the gateway ships, by uid.
    static let expectedUIDs: Set = [
        "spanway-overview", "spanway-spend", "spanway-deployments", "spanway-sinks", "spanway-gateway",
    ]
    static let datasource: JSONValue = .object(["type": "prometheus", "uid": "${datasource}"])

    @Test func dashboardsAreImportableClassicJSON() throws {
        let dashboards = try PrometheusDashboard.all(in: Self.directory)
        #expect(Set(dashboards.compactMap { $0.json["uid"]?.stringValue }) == Self.expectedUIDs)
        #expect(Set(dashboards.compactMap { $0.json["title"]?.stringValue }).count == dashboards.count, "titles are unique")
        for dashboard in dashboards {
            let file = dashboard.file
            #expect((dashboard.json["schemaVersion"]?.intValue ?? 0) >= 39, "\(file): schemaVersion")
            #expect(dashboard.json["title"]?.stringValue?.isEmpty == false, "\(file): title")
            // `__inputs` is resolved only by the UI's import: provisioned files would keep `${DS_…}`.
            #expect(dashboard.json["__inputs"] == nil, "\(file): no __inputs")
            #expect(dashboard.json["id"] == nil || dashboard.json["id"] == .null, "\(file): no database id")
            let selector = dashboard.variables.first { $0.name == "datasource" }
            #expect(selector?.type == "datasource" && selector?.json["query"] == "prometheus", "\(file): datasource variable")
            for variable in dashboard.variables where variable.type == "query" {
                #expect(variable.json["datasource"] == Self.datasource, "\(file): variable \(variable.name)'s datasource")
                // Multi-value variables are matched with =~; "All" must match series without the label too.
                #expect(variable.json["allValue"] == ".*", "\(file): variable \(variable.name)'s allValue")
            }
            var ids: Set<Int> = []
            for panel in dashboard.panels {
                let title = panel["title"]?.stringValue ?? "?"
                let id = try #require(panel["id"]?.intValue, "\(file): \(title) has an id")
                #expect(ids.insert(id).inserted, "\(file): panel id \(id) is unique")
                let x = panel["gridPos"]?["x"]?.intValue ?? -1
                let w = panel["gridPos"]?["w"]?.intValue ?? 0
                #expect(x >= 0 && w >= 1 && x + w <= 24, "\(file): \(title) fits the 24-column grid")
                if panel["type"]?.stringValue == "row" { continue }
                #expect(panel["datasource"] == Self.datasource, "\(file): \(title)'s datasource")
                let targets = panel["targets"]?.arrayValue ?? []
                #expect(!targets.isEmpty, "\(file): \(title) has a query")
                #expect(Set(targets.compactMap { $0["refId"]?.stringValue }).count == targets.count, "\(file): \(title) refIds")
                for target in targets {
                    #expect(target["datasource"] == Self.datasource, "\(file): \(title)'s target datasource")
                }
            }
            for target in dashboard.targets {
                #expect(throws: Never.self, "\(file): \(target.panel)") { try dashboard.substituted(target.expression) }
            }
        }
    }

    static let config = """
        router_settings:
          allowed_fails: 1
          cooldown_time: 600
          fallbacks: [{primary: [backup]}]
        litellm_settings: {callbacks: [otel, prometheus]}
        model_list:
          - {model_name: chat, litellm_params: {model: mock/gpt-4o-mini}}
          - model_name: gpt
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: primary
            litellm_params: {model: openai/error-500, api_base: "{upstream}"}
            model_info: {id: failing}
          - {model_name: backup, litellm_params: {model: mock/gpt-4o-mini}}
          - model_name: broken
            litellm_params: {model: openai/error-503, api_base: "{upstream}"}
            model_info: {id: broken}
          - {model_name: house, litellm_params: {model: mock/house-model}}
        general_settings:
          master_key: sk-e2e-master
        """

    /// What the test sent, per `team` label value (a team's alias, else its id).
    struct Sent {
        var requests: [String: Int] = [:]
        var spend: [String: Double] = [:]
        /// Answers with a 5xx status.
        var serverErrors: [String: Int] = [:]
        /// Every `x-spanway-trace-id` the gateway answered with.
        var traceIDs: Set<String> = []
    }

    @Test(
        .enabled(
            if: PrometheusServer.isInstalled, "needs Debian's prometheus at /usr/bin/prometheus (apt-get install prometheus)"))
    func everyPanelAndAlertEvaluatesOnAPrometheusScrapingTheGateway() async throws {
        try await Harness.with(config: Self.config) { h in
            for team in [#"{"team_id":"alpha","team_alias":"Alpha","max_budget":10}"#, #"{"team_id":"beta","max_budget":5}"#] {
                #expect(try await h.send("/team/new", json: team).status == 200)
            }
            let keys = [
                ("Alpha", try await h.newKey(#"{"team_id":"alpha","key_alias":"alpha-app","max_budget":5}"#)),
                ("beta", try await h.newKey(#"{"team_id":"beta","key_alias":"beta-app"}"#)),
            ]
            var sent = Sent()
            // Before Prometheus starts, so every series exists at its first scrape and the second
            // round of traffic shows up in rate() and increase().
            try await Self.sendTraffic(h, keys: keys, into: &sent)
            let alertsPath = Self.alertRules.path
            // With exemplar storage, Prometheus keeps the trace ids of the OpenMetrics scrapes.
            try await PrometheusServer.with(
                scraping: "127.0.0.1:\(h.gatewayPort)", ruleFiles: [alertsPath], features: ["exemplar-storage"], http: h.client
            ) { prometheus in
                try await prometheus.waitUntil("two successful scrapes of the gateway") {
                    let up = try await prometheus.values(#"sum_over_time(up{job="spanway"}[5m])"#, by: "job")
                    return (up["spanway"] ?? 0) >= 2
                }
                try await Self.sendTraffic(h, keys: keys, into: &sent)
                // "broken" answers its upstream's 503 until it cools down, then 429 (LiteLLM's
                // RouterRateLimitError): how many 5xx each team saw depends on the cooldown's timing.
                #expect(
                    sent.requests == ["Alpha": 16, "beta": 16] && sent.serverErrors.values.allSatisfy { (0...2).contains($0) })
                #expect(sent.spend.values.allSatisfy { $0 > 0 }, "both teams spent")
                try await Self.checkCounts(prometheus, sent: sent)
                try await Self.checkAlertRules(prometheus)
                try await Self.checkPanels(prometheus)
                try await Self.checkExemplars(prometheus, sent: sent)
            }
        }
    }

    /// Per team, per round: priced answers from two providers (mock and openai, one streamed),
    /// a deployment that fails over to a fallback group, one that fails outright (503), an
    /// unpriced model and an unknown one (404).
    static func sendTraffic(_ h: Harness, keys: [(team: String, key: String)], into sent: inout Sent) async throws {
        for (team, key) in keys {
            var statuses: [Int] = []
            for model in ["chat", "chat", "gpt", "primary", "broken", "house", "no-such-model"] {
                let reply = try await h.send(
                    "/v1/chat/completions", json: #"{"model":"\#(model)","messages":[{"role":"user","content":"Say hello"}]}"#,
                    key: key)
                statuses.append(reply.status)
                if let trace = reply.headers.first(name: "x-spanway-trace-id") { sent.traceIDs.insert(trace) }
                let cost = reply.headers.first(name: "x-spanway-response-cost").flatMap(Double.init) ?? 0
                sent.spend[team, default: 0] += cost
                sent.requests[team, default: 0] += 1
                if reply.status >= 500 { sent.serverErrors[team, default: 0] += 1 }
            }
            #expect(statuses.count == 7 && [503, 429].contains(statuses[4]), "\(team)")
            #expect(Array(statuses[..<4]) == [200, 200, 200, 200] && Array(statuses[5...]) == [200, 404], "\(team)")
            // A stream's cost comes as an HTTP trailer, which only a raw client sees.
            let (status, cost, trace) = try await streamedCost(port: h.gatewayPort, model: "gpt", key: key)
            #expect(status == 200 && cost > 0, "streamed request")
            if let trace { sent.traceIDs.insert(trace) }
            sent.spend[team, default: 0] += cost
            sent.requests[team, default: 0] += 1
        }
    }

    /// Status, `x-spanway-response-cost` trailer and `x-spanway-trace-id` of a streamed chat completion.
    static func streamedCost(port: Int, model: String, key: String) async throws -> (Int, Double, String?) {
        let body = #"{"model":"\#(model)","stream":true,"messages":[{"role":"user","content":"Say hello"}]}"#
        let connection = try await RawConnection.connect(port: port)
        try await connection.send(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
        let text = await connection.readToClose()
        await connection.close()
        let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        let trace = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-spanway-trace-id:") }.map {
            $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
        }
        // The head names the trailer ("trailer: x-spanway-response-cost"); the value comes after the last chunk.
        guard let terminator = text.range(of: "\r\n0\r\n", options: .backwards),
            let line = text[terminator.upperBound...].split(separator: "\r\n").first(where: {
                $0.lowercased().hasPrefix("x-spanway-response-cost:")
            }),
            let cost = Double(line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces))
        else {
            Issue.record("no cost trailer in: \(text.suffix(400))")
            return (status, 0, trace)
        }
        return (status, cost, trace)
    }

    /// Prometheus's view of requests and spend per team equals what the test sent.
    static func checkCounts(_ prometheus: PrometheusServer, sent: Sent) async throws {
        let requestsQuery = "sum by (team) (spanway_requests_total)"
        let spendQuery = "sum by (team) (spanway_spend_usd_total)"
        let errorsQuery = #"sum by (team) (spanway_requests_total{status_code=~"5.."})"#
        func spendAgrees(_ spend: [String: Double]) -> Bool {
            Set(spend.keys) == Set(sent.spend.keys)
                && sent.spend.allSatisfy { team, expected in abs((spend[team] ?? .infinity) - expected) <= 1e-9 }
        }
        // The scrape after the last request: the gateway may record a request just after answering it.
        // Under load one scrape can miss its 1 s timeout, which marks every series stale until the
        // next: the three figures are read together until they agree, and the expectations check
        // the last reading (on a timeout they show what differs).
        var seen: (requests: [String: Int], spend: [String: Double], errors: [String: Int]) = ([:], [:], [:])
        try? await prometheus.waitUntil("a scrape with every request sent", timeout: .seconds(30)) {
            seen = (
                try await prometheus.values(requestsQuery, by: "team").mapValues { Int($0) },
                try await prometheus.values(spendQuery, by: "team"),
                try await prometheus.values(errorsQuery, by: "team").mapValues { Int($0) }
            )
            return seen.requests == sent.requests && spendAgrees(seen.spend) && seen.errors == sent.serverErrors
        }
        #expect(seen.requests == sent.requests)
        #expect(spendAgrees(seen.spend), "spend \(seen.spend), sent \(sent.spend)")
        #expect(seen.errors == sent.serverErrors)
    }

    /// Every alerting rule of alerts.yaml is loaded and evaluates without error, by the rule
    /// manager and as a query; the cooling deployments make their alerts pending; nothing fires.
    static func checkAlertRules(_ prometheus: PrometheusServer) async throws {
        let ruleText = try String(contentsOf: alertRules, encoding: .utf8)
        let declared = ruleText.split(separator: "\n").filter {
            $0.trimmingCharacters(in: .whitespaces).hasPrefix("- alert:")
        }.count
        var rules: [JSONValue] = []
        try await prometheus.waitUntil("every rule evaluated") {
            let groups = try await prometheus.api("/api/v1/rules?type=alert")["data"]?["groups"]?.arrayValue ?? []
            rules = groups.flatMap { $0["rules"]?.arrayValue ?? [] }
            return rules.count == declared && rules.allSatisfy { $0["health"]?.stringValue != "unknown" }
        }
        #expect(declared >= 6)
        for rule in rules {
            let name = rule["name"]?.stringValue ?? "?"
            #expect(rule["health"] == "ok", "\(name): \(rule["lastError"]?.stringValue ?? "")")
            let expression = try #require(rule["query"]?.stringValue)
            let result = try await prometheus.query(expression)
            #expect(result.succeeded, "\(name): \(result.error ?? "")")
        }

        func active() async throws -> [(name: String, labels: JSONValue, state: String)] {
            (try await prometheus.api("/api/v1/alerts")["data"]?["alerts"]?.arrayValue ?? []).map { alert in
                (alert["labels"]?["alertname"]?.stringValue ?? "", alert["labels"] ?? .null, alert["state"]?.stringValue ?? "")
            }
        }
        let expected: Set = [
            "SpanwayDeploymentCoolingDown primary/failing", "SpanwayDeploymentCoolingDown broken/broken",
            "SpanwayModelGroupUnavailable primary/", "SpanwayModelGroupUnavailable broken/",
        ]
        func key(_ alert: (name: String, labels: JSONValue, state: String)) -> String {
            "\(alert.name) \(alert.labels["model_group"]?.stringValue ?? "")/\(alert.labels["deployment"]?.stringValue ?? "")"
        }
        try await prometheus.waitUntil("the cooling deployments' alerts are pending") {
            expected.isSubset(of: Set(try await active().map(key)))
        }
        let alerts = try await active()
        // Seconds into the test every `for:` still holds its alert back, and the two alerts without
        // one (a sink dropping, a budget spent) must not match: nothing fires.
        #expect(alerts.allSatisfy { $0.state == "pending" }, "\(alerts.map { "\(key($0)) \($0.state)" })")
        // The error-rate alert's traffic floor: four failed requests in five minutes page no one.
        #expect(!alerts.contains { $0.name == "SpanwayHighErrorRate" })
    }

    /// Every panel target of every dashboard, with the variables substituted, returns at least
    /// one finite value; every query variable lists at least one value.
    static func checkPanels(_ prometheus: PrometheusServer) async throws {
        let dashboards = try PrometheusDashboard.all(in: directory)
        var evaluated = 0
        for dashboard in dashboards {
            for target in dashboard.targets {
                let expression: String
                do {
                    expression = try dashboard.substituted(target.expression)
                } catch {
                    Issue.record("\(error)")
                    continue
                }
                let result = await prometheus.dataQuery(expression)
                let place = "\(dashboard.file): \(target.panel) (\(target.refID)): \(expression)"
                #expect(result.succeeded, "\(place): \(result.error ?? "")")
                #expect(!result.samples.isEmpty, "\(place): no data")
                #expect(!result.finiteSamples.isEmpty, "\(place): only NaN or infinite values")
                evaluated += 1
            }
            for variable in dashboard.variables where variable.type == "query" {
                let query = try #require(variable.query, "\(dashboard.file): \(variable.name)")
                let (selector, label) = try Self.labelValues(query)
                let match = PrometheusServer.formEncoded(try dashboard.substituted(selector))
                let path = "/api/v1/label/\(label)/values?match%5B%5D=\(match)"
                // Polled like the panels' queries: a failed scrape hides the series for a second.
                var values: [JSONValue] = []
                try? await prometheus.waitUntil("values of \(variable.name)", timeout: .seconds(15)) {
                    values = try await prometheus.api(path)["data"]?.arrayValue ?? []
                    return !values.isEmpty
                }
                #expect(!values.isEmpty, "\(dashboard.file): variable \(variable.name) (\(query)) has no values")
            }
        }
        #expect(evaluated >= 50, "every dashboard's panels were evaluated")
    }

    /// Prometheus stored exemplars for the latency histograms from the gateway's OpenMetrics
    /// scrapes, and each one's trace id is one the test's requests were answered with.
    static func checkExemplars(_ prometheus: PrometheusServer, sent: Sent) async throws {
        let now = Date().timeIntervalSince1970
        for histogram in ["gen_ai_client_operation_duration_seconds", "spanway_request_duration_seconds"] {
            let query = PrometheusServer.formEncoded("\(histogram)_bucket")
            let path = "/api/v1/query_exemplars?query=\(query)&start=\(Int(now) - 3600)&end=\(Int(now) + 60)"
            var traces: [String] = []
            try await prometheus.waitUntil("exemplars of \(histogram)", timeout: .seconds(30)) {
                let reply = try await prometheus.api(path)
                traces = (reply["data"]?.arrayValue ?? []).flatMap { series in
                    (series["exemplars"]?.arrayValue ?? []).compactMap { $0["labels"]?["trace_id"]?.stringValue }
                }
                return !traces.isEmpty
            }
            #expect(traces.allSatisfy { sent.traceIDs.contains($0) }, "\(histogram): \(traces) not among the requests' trace ids")
            #expect(traces.allSatisfy { $0.count == 32 }, "\(histogram): \(traces)")
        }
    }

    /// `label_values(<selector>, <label>)` split into its parts.
    static func labelValues(_ query: String) throws -> (String, String) {
        guard query.hasPrefix("label_values("), query.hasSuffix(")"), let comma = query.lastIndex(of: ",") else {
            throw PrometheusDashboard.Failure(description: "not a label_values() query: \(query)")
        }
        let selector = query[query.index(query.startIndex, offsetBy: 13)..<comma].trimmingCharacters(in: .whitespaces)
        let label = query[query.index(after: comma)...].dropLast().trimmingCharacters(in: .whitespaces)
        return (selector, label)
    }
}
