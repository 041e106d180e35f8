import Foundation
import Store
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// The sinks together: they agree on every number, teams' traces stay with their teams, a dead
/// destination harms nobody, no secret leaks, sampling spares the ledger and Prometheus, and
/// alerts fire.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TraceRoutingTests {
    static let body = #"{"model":"MODEL","messages":[{"role":"user","content":"Say hello"}]}"#

    func chat(_ h: Harness, _ model: String, key: String, content: String = "Say hello") async throws -> Harness.Reply {
        let body = #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(content)"}]}"#
        return try await h.send("/v1/chat/completions", json: body, key: key)
    }

    func key(_ h: Harness, team: String) async throws -> String {
        if try await h.send("/team/info?team_id=\(team)").status == 404 {
            #expect(try await h.send("/team/new", json: #"{"team_id":"\#(team)"}"#).status == 200)
        }
        let reply = try await h.send("/key/generate", json: #"{"team_id":"\#(team)","key_alias":"\#(team)-key"}"#)
        return try #require(reply.json?["key"]?.stringValue, "\(reply.text)")
    }

    struct Totals: Equatable {
        var tokens = 0
        var cost = 0.0

        static func ~= (a: Totals, b: Totals) -> Bool { a.tokens == b.tokens && abs(a.cost - b.cost) < 1e-12 }
    }

    @Test func everySinkAgreesOnTokensAndCostPerTeam() async throws {
        let config = CallbackSinkTests.models + "litellm_settings: {callbacks: [\"otel\", \"langfuse_otel\", \"generic_api\"]}"
        try await Harness.with(config: config, environment: CallbackSinkTests.env) { h in
            let keys = ["alpha": try await key(h, team: "alpha"), "beta": try await key(h, team: "beta")]
            var expected: [String: Totals] = [:]
            for index in 0..<12 {
                let team = index % 3 == 0 ? "beta" : "alpha"
                let reply = try await chat(h, index % 2 == 0 ? "claude" : "gpt-4o-mini", key: keys[team] ?? "")
                #expect(reply.status == 200)
                expected[team, default: Totals()].cost +=
                    reply.headers.first(name: "x-spanway-response-cost").flatMap(Double.init) ?? 0
            }
            try await h.eventually("OTLP, Langfuse and the webhook have all 12") {
                h.receiver.spans.filter { $0.kind == .client }.count == 12
                    && h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }.count == 12
                    && langfuseSpans(h).filter { $0.kind == .client }.count == 12
            }
            // OTLP: the CLIENT spans.
            var otlp: [String: Totals] = [:]
            for span in h.receiver.spans where span.kind == .client {
                let team = span[attribute: "spanway.team.id"]?.stringValue ?? ""
                otlp[team, default: Totals()].tokens += Int(
                    (span[attribute: "gen_ai.usage.input_tokens"]?.intValue ?? 0)
                        + (span[attribute: "gen_ai.usage.output_tokens"]?.intValue ?? 0))
                otlp[team, default: Totals()].cost += span[attribute: "gen_ai.usage.cost"]?.doubleValue ?? 0
            }
            // Langfuse: usage_details total and cost_details total.
            var langfuse: [String: Totals] = [:]
            for span in langfuseSpans(h) where span.kind == .client {
                let team = span[attribute: "langfuse.trace.metadata.team_id"]?.stringValue ?? ""
                let usage = try JSONParser.parse(span[attribute: "langfuse.observation.usage_details"]?.stringValue ?? "{}")
                let cost = try JSONParser.parse(span[attribute: "langfuse.observation.cost_details"]?.stringValue ?? "{}")
                langfuse[team, default: Totals()].tokens += usage["total"]?.intValue ?? 0
                langfuse[team, default: Totals()].cost += cost["total"]?.doubleValue ?? 0
            }
            // The webhook's StandardLoggingPayload.
            var webhook: [String: Totals] = [:]
            for payload in h.hooks.received(under: "/hook").flatMap({ $0.json?.arrayValue ?? [] }) {
                let team = payload["metadata"]?["user_api_key_team_id"]?.stringValue ?? ""
                webhook[team, default: Totals()].tokens += payload["total_tokens"]?.intValue ?? 0
                webhook[team, default: Totals()].cost += payload["response_cost"]?.doubleValue ?? 0
            }
            // The ledger.
            var ledger: [String: Totals] = [:]
            for team in ["alpha", "beta"] {
                for row in try await h.store.spendLogs(SpendQuery(teamID: team)) {
                    ledger[team, default: Totals()].tokens += row.inputTokens + row.outputTokens
                    ledger[team, default: Totals()].cost += row.spend
                }
            }
            // Prometheus.
            let metrics = try MetricsExposition(try await h.metrics())
            var prometheus: [String: Totals] = [:]
            for team in ["alpha", "beta"] {
                for type in ["input", "output"] {
                    for sample in metrics.samples("spanway_tokens_total", matching: ["team": team, "type": type]) {
                        prometheus[team, default: Totals()].tokens += Int(sample.value)
                    }
                }
                for sample in metrics.samples("spanway_spend_usd_total", matching: ["team": team]) {
                    prometheus[team, default: Totals()].cost += sample.value
                }
            }
            for team in ["alpha", "beta"] {
                let reference = otlp[team] ?? Totals()
                #expect(reference.tokens > 0 && abs(reference.cost - (expected[team]?.cost ?? -1)) < 1e-12)
                for (sink, totals) in [
                    ("langfuse", langfuse), ("webhook", webhook), ("ledger", ledger), ("prometheus", prometheus),
                ] {
                    #expect((totals[team] ?? Totals()) ~= reference, "\(sink) disagrees with OTLP for team \(team)")
                }
            }
        }
    }

    func langfuseSpans(_ h: Harness) -> [Opentelemetry_Proto_Trace_V1_Span] {
        h.hooks.received(under: "/langfuse").flatMap { hook in
            ((try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: hook.body))?.resourceSpans
                ?? [])
                .flatMap { $0.scopeSpans.flatMap(\.spans) }
        }
    }

    static let teamConfig =
        CallbackSinkTests.models + """
            litellm_settings:
              callbacks: ["generic_api"]
              default_team_settings:
                - team_id: beta
                  callbacks: ["generic_api"]
                  generic_logger_endpoint: http://{hooks}/beta
            # Alpha's destination, set through the admin API, is on loopback.
            spanway_settings: {allowed_egress: ["127.0.0.1"]}
            """

    @Test func aTeamsDestinationsReceiveOnlyThatTeamsSpans() async throws {
        try await Harness.with(config: Self.teamConfig, environment: CallbackSinkTests.env) { h in
            let alpha = try await key(h, team: "alpha")
            let beta = try await key(h, team: "beta")
            // Alpha's own destination, set through the admin API (LiteLLM's endpoint and shape).
            let added = try await h.send(
                "/team/alpha/callback",
                json:
                    #"{"callback_name":"generic_api","callback_type":"success_and_failure","callback_vars":{"generic_logger_endpoint":"http://\#(h.hooks.root)/alpha","generic_logger_headers":"x-token=alpha-secret"}}"#
            )
            #expect(added.status == 200, "\(added.text)")
            let shown = try await h.send("/team/alpha/callback")
            #expect(shown.text.contains("generic_logger_endpoint") && !shown.text.contains("alpha-secret"))
            for _ in 0..<3 {
                #expect(try await chat(h, "gpt-4o-mini", key: alpha).status == 200)
                #expect(try await chat(h, "claude", key: beta).status == 200)
            }
            func teams(_ prefix: String) -> [String] {
                h.hooks.received(under: prefix).flatMap { $0.json?.arrayValue ?? [] }.compactMap {
                    $0["metadata"]?["user_api_key_team_id"]?.stringValue
                }
            }
            try await h.eventually("every destination has its spans") {
                teams("/alpha").count == 3 && teams("/beta").count == 3 && teams("/hook").count == 6
            }
            #expect(teams("/alpha").allSatisfy { $0 == "alpha" })
            #expect(teams("/beta").allSatisfy { $0 == "beta" })
            #expect(h.hooks.received(under: "/alpha").allSatisfy { $0.header("x-token") == "alpha-secret" })

            // Alpha opts out of the default destinations: its own still gets its spans.
            let callback =
                #"{"callback_name":"generic_api","callback_vars":{"generic_logger_endpoint":"http://\#(h.hooks.root)/alpha","generic_logger_headers":"x-token=alpha-secret"}}"#
            let optOut = try await h.send(
                "/team/update", json: #"{"team_id":"alpha","metadata":{"default_sinks":false,"logging":[\#(callback)]}}"#)
            #expect(optOut.status == 200, "\(optOut.text)")
            // Team answers show the callback's credentials masked, like `GET /team/{id}/callback`.
            #expect(optOut.text.contains("generic_logger_endpoint") && !optOut.text.contains("alpha-secret"))
            let info = try await h.send("/team/info?team_id=alpha")
            #expect(info.status == 200 && info.text.contains("generic_logger_endpoint") && !info.text.contains("alpha-secret"))
            #expect(try await chat(h, "gpt-4o-mini", key: alpha).status == 200)
            #expect(try await chat(h, "claude", key: beta).status == 200)
            // Beta's fourth settled after alpha's and travels the same default lane, in order: once it
            // is there, alpha's fourth would have been too.
            try await h.eventually("alpha's fourth reached its own destination, beta's the default one") {
                teams("/alpha").count == 4 && teams("/beta").count == 4 && teams("/hook").filter { $0 == "beta" }.count == 4
            }
            #expect(teams("/hook").filter { $0 == "alpha" }.count == 3)
            #expect(teams("/beta").count == 4)
            // Bad settings are refused with the field named.
            let bad = try await h.send(
                "/team/update", json: #"{"team_id":"alpha","metadata":{"logging":[{"callback_name":"nope"}]}}"#)
            #expect(bad.status == 400 && bad.json?["error"]?["param"] == "metadata.logging[0].callback_name")
        }
    }

    @Test func aDeadDestinationHarmsNoRequestAndDeliveryResumes() async throws {
        let env = CallbackSinkTests.env.merging(["OTEL_BSP_MAX_QUEUE_SIZE": "8", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4"]) { $1 }
        let config = CallbackSinkTests.models + "litellm_settings: {callbacks: [\"otel\", \"generic_api\"]}"
        try await Harness.with(config: config, environment: env) { h in
            h.hooks.fail("/hook", with: .serviceUnavailable)
            for _ in 0..<60 { #expect(try await h.chat("gpt-4o-mini").status == 200) }
            try await h.eventually("drops counted while the webhook is down") {
                let stats = h.gateway.pipeline.stats().first { $0.sink == "generic_api" }
                return (stats?.dropped ?? 0) > 0 && (stats?.failedAttempts ?? 0) > 0 && (stats?.queueDepth ?? 99) <= 8
            }
            // The other sink is unaffected.
            try await h.eventually("OTLP has every span") { h.receiver.spans.filter { $0.kind == .client }.count == 60 }
            h.hooks.fail("/hook", with: nil)
            for _ in 0..<5 { #expect(try await h.chat("gpt-4o-mini").status == 200) }
            try await h.eventually("delivery resumed") {
                h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }.count >= 5
            }
            let stats = try #require(h.gateway.pipeline.stats().first { $0.sink == "generic_api" })
            #expect(stats.exported + stats.dropped + stats.queueDepth <= 65 && stats.dropped > 0)
            let metrics = try MetricsExposition(try await h.metrics())
            #expect(try metrics.value(of: "spanway_sink_dropped_total", labels: ["sink": "generic_api"]) ?? 0 > 0)
            #expect(try metrics.value(of: "spanway_sink_queue_depth", labels: ["sink": "generic_api"]) != nil)
        }
    }

    @Test func noSecretLeavesUnlessContentIsCapturedAndThenRedacted() async throws {
        let metricsToken = "metrics-scrape-token-0123"
        let prompt =
            "My key is sk-proj-abcdefghijklmnop1234 and my mail is ada@example.com; Bearer tok_12345678 please; "
            + "scrape with \(metricsToken)"
        for capture in [false, true] {
            let config =
                CallbackSinkTests.models + """
                    litellm_settings: {callbacks: ["otel", "langfuse_otel", "langfuse", "helicone", "generic_api"], failure_callback: ["sentry"]}
                    spanway_settings: {capture_content: \(capture), redact_emails: true}
                    """
            let env = CallbackSinkTests.env.merging(["SPANWAY_METRICS_TOKEN": metricsToken]) { $1 }
            try await Harness.with(config: config, environment: env) { h in
                let key = try await key(h, team: "alpha")
                #expect(try await chat(h, "claude", key: key, content: prompt).status == 200)
                #expect(try await chat(h, "gpt-4o-mini", key: key, content: prompt).status == 200)
                #expect(try await chat(h, "e500", key: key, content: prompt).status >= 500)
                try await h.eventually("every sink delivered") {
                    ["/langfuse/api/public/otel", "/langfuse/api/public/ingestion", "/helicone", "/hook", "/sentry"].allSatisfy {
                        !h.hooks.received(under: $0).isEmpty
                    } && h.receiver.spans.count >= 6
                }
                try await Task.sleep(for: .milliseconds(300))
                let otlp = h.receiver.exports.withLock {
                    $0.map { (try? $0.request.serializedBytes()).map { String(decoding: $0 as [UInt8], as: UTF8.self) } ?? "" }
                }
                let everything = h.hooks.everything + otlp.joined()
                for secret in [
                    key, Harness.master, Harness.upstreamKey, "sk-proj-abcdefghijklmnop1234", "ada@example.com", "tok_12345678",
                    metricsToken,
                ] {
                    #expect(!everything.contains(secret), "capture \(capture): a secret reached a sink")
                }
                #expect(everything.contains("and my mail is") == capture, "the prompt travels only with capture on")
                if capture {
                    #expect(everything.contains("[redacted-email]") && everything.contains("[redacted]"))
                    let payload = h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }.first {
                        $0["status"] == "success"
                    }
                    #expect(payload?["response"] != nil && payload?["response"] != .null)
                    #expect(h.receiver.spans.contains { $0[attribute: "gen_ai.output.messages"] != nil })
                }
            }
        }
    }

    @Test func samplingThinsTraceSinksButNeverTheLedgerOrPrometheus() async throws {
        let env = CallbackSinkTests.env.merging(["OTEL_TRACES_SAMPLER": "always_off"]) { $1 }
        let config = CallbackSinkTests.models + "litellm_settings: {callbacks: [\"otel\", \"langfuse_otel\", \"generic_api\"]}"
        try await Harness.with(config: config, environment: env) { h in
            let key = try await key(h, team: "alpha")
            for _ in 0..<4 { #expect(try await chat(h, "gpt-4o-mini", key: key).status == 200) }
            try await h.eventually("the webhook logs every request") {
                h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }.count == 4
            }
            // Emitting is synchronous, so by now every lane has taken the requests it will ever get:
            // the trace sinks' lanes took none, and nothing can reach their receivers later.
            for lane in h.gateway.pipeline.stats() where lane.sink != "generic_api" {
                #expect(lane.exported + lane.dropped + lane.queueDepth == 0, "\(lane.sink) was fed")
            }
            #expect(h.receiver.spans.isEmpty && h.hooks.received(under: "/langfuse").isEmpty)
            #expect(try await h.store.spendLogs(SpendQuery(teamID: "alpha")).count == 4)
            let metrics = try MetricsExposition(try await h.metrics())
            #expect(try metrics.value(of: "spanway_requests_total", labels: ["team": "alpha", "status_code": "200"]) == 4)
            // A caller's sampled traceparent wins under parentbased_* only; always_off ignores it.
        }
    }

    @Test func alertsForCooldownsRecoveryAndAFailingSink() async throws {
        let config =
            CallbackSinkTests.models + """
                router_settings: {allowed_fails: 0, cooldown_time: 1}
                litellm_settings: {callbacks: ["generic_api"]}
                spanway_settings:
                  alerts: {webhook_url: "http://{hooks}/alerts", sink_failure_seconds: 0.3}
                """
        try await Harness.with(config: config, environment: CallbackSinkTests.env) { h in
            h.hooks.fail("/hook", with: .badGateway)
            #expect(try await h.chat("e500").status >= 500)
            func alerts() -> [String] { h.hooks.received(under: "/alerts").compactMap { $0.json?["text"]?.stringValue } }
            try await h.eventually("the cooldown alert") {
                alerts().contains { $0.contains("cooling down") && $0.contains("e500") }
            }
            try await h.eventually("the sink failure alert") {
                alerts().contains { $0.contains("Sink 'generic_api' has failed") }
            }
            h.hooks.fail("/hook", with: nil)
            #expect(try await h.chat("gpt-4o-mini").status == 200)
            try await h.eventually("the sink recovery alert") {
                alerts().contains { $0.contains("Sink 'generic_api' is delivering again") }
            }
            try await h.eventually("the deployment recovery alert") { alerts().contains { $0.contains("has recovered") } }
            let key = try #require(
                try await h.send("/key/generate", json: #"{"key_alias":"thrifty","soft_budget":0.0000001}"#).json?["key"]?
                    .stringValue)
            #expect(try await chat(h, "claude", key: key).status == 200)
            try await h.eventually("the budget alert") {
                alerts().contains { $0.contains("Budget alert: key 'thrifty'") && $0.contains("soft budget") }
            }
            #expect(!h.hooks.everything.contains(key))
            let metrics = try MetricsExposition(try await h.metrics())
            #expect(try metrics.value(of: "spanway_sink_exported_total", labels: ["sink": "alerts"]) != nil)
        }
    }
}
