import Foundation
import GatewayTesting
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy

/// What the dashboards read, end to end: SERVER spans of 4xx answers are not errors, the
/// requested model means the same on spans and metrics, every upstream call (retried ones too)
/// is a GenAI operation, and an OpenMetrics scrape links latency buckets to the requests' traces.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MetricsFidelityTests {
    static let config = """
        router_settings:
          num_retries: 1
          model_group_alias: {fast: chat}
          fallbacks: [{primary: [backup]}]
        litellm_settings: {callbacks: [otel, prometheus]}
        model_list:
          - {model_name: chat, litellm_params: {model: mock/gpt-4o-mini}}
          - model_name: primary
            litellm_params: {model: openai/error-500, api_base: "{upstream}"}
            model_info: {id: failing}
          - {model_name: backup, litellm_params: {model: mock/gpt-4o-mini}}
          - {model_name: policy, litellm_params: {model: mock/error-policy}}
          - {model_name: broken, litellm_params: {model: mock/error-503}}
        general_settings: {master_key: sk-e2e-master}
        """

    static let prometheusAccept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    @Test func serverSpansOfClientErrorsAreNotErrors() async throws {
        try await Harness.with(config: Self.config) { h in
            // 404 (no such model), 400 (the upstream refused the content), 401 (no such key), 503.
            #expect(try await h.chat("no-such-model").status == 404)
            #expect(try await h.chat("policy").status == 400)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"chat","messages":[{"role":"user","content":"x"}]}"#,
                    key: "sk-not-a-key"
                ).status == 401)
            #expect(try await h.chat("broken").status == 503)
            let status = { (span: Opentelemetry_Proto_Trace_V1_Span) in span[attribute: "http.response.status_code"]?.intValue }
            try await h.eventually("the 404, 400 and 503 server spans and the failed client spans") {
                let spans = h.receiver.spans
                return [404, 400, 503].allSatisfy { code in spans.contains { $0.kind == .server && status($0) == Int64(code) } }
                    && spans.filter { $0.kind == .client && $0[attribute: "error.type"] != nil }.count >= 2
            }
            let spans = h.receiver.spans
            for server in spans where server.kind == .server && (400..<500).contains(status(server) ?? 0) {
                #expect(server.status.code == .unset, "\(server.name) \(status(server) ?? 0): \(server.status)")
                #expect(server[attribute: "error.type"] == nil, "\(status(server) ?? 0)")
            }
            let failed = try #require(spans.first { $0.kind == .server && status($0) == 503 })
            #expect(failed.status.code == .error && failed[attribute: "error.type"] != nil)
            // The upstream's 400 is still an error of the call that got it.
            let refused = try #require(
                spans.first { $0.kind == .client && $0[attribute: "spanway.model_group"]?.stringValue == "policy" })
            #expect(refused.status.code == .error && refused[attribute: "error.type"] != nil)
            #expect(refused[attribute: "http.response.status_code"]?.intValue == 400)
            // Whatever carries error.type is an error (the conformance suite's rule).
            for span in spans where span[attribute: "error.type"] != nil {
                #expect(span.status.code == .error, "\(span.name)")
            }
            // The metrics still count every 4xx by status.
            let exposition = try await h.exposition()
            #expect(exposition.samples("spanway_requests_total", matching: ["status_code": "404"]).map(\.value).reduce(0, +) == 1)
            #expect(exposition.samples("spanway_requests_total", matching: ["status_code": "400"]).map(\.value).reduce(0, +) == 1)
        }
    }

    @Test func requestedModelIsTheClientsOnSpansAndMetrics() async throws {
        try await Harness.with(config: Self.config) { h in
            // "fast" is a model_group_alias of the group "chat", whose deployment asks the mock for gpt-4o-mini.
            let reply = try await h.chat("fast")
            #expect(reply.status == 200)
            let trace = try #require(reply.headers.first(name: "x-spanway-trace-id"))
            try await h.eventually("server and client spans") {
                h.receiver.spans.filter { $0.traceHex == trace }.count >= 2
            }
            let spans = h.receiver.spans.filter { $0.traceHex == trace }
            let server = try #require(spans.first { $0.kind == .server })
            let client = try #require(spans.first { $0.kind == .client })
            #expect(server[attribute: "gen_ai.request.model"]?.stringValue == "fast")
            #expect(server[attribute: "spanway.model_group"]?.stringValue == "chat")
            #expect(client[attribute: "gen_ai.request.model"]?.stringValue == "fast")
            #expect(client[attribute: "spanway.model_group"]?.stringValue == "chat")
            #expect(client[attribute: "spanway.upstream.model"]?.stringValue == "gpt-4o-mini")
            #expect(client.name == "chat fast")
            let exposition = try await h.exposition()
            let labels = ["gen_ai_request_model": "fast", "model_group": "chat", "error_type": ""]
            #expect(try exposition.value(of: "gen_ai_client_operation_duration_seconds_count", labels: labels) == 1)
            #expect(
                exposition.samples("gen_ai_client_operation_duration_seconds_count", matching: ["gen_ai_request_model": "chat"])
                    .isEmpty)
            #expect(
                try exposition.value(
                    of: "gen_ai_client_token_usage_count",
                    labels: ["gen_ai_request_model": "fast", "model_group": "chat", "gen_ai_token_type": "input"]) == 1)
        }
    }

    @Test func retriedAndFallenBackAttemptsAreOperationsWithTheirErrorType() async throws {
        try await Harness.with(config: Self.config) { h in
            let reply = try await h.chat("primary")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.headers.first(name: "x-spanway-model-group") == "backup")
            // What the failing upstream saw is how many attempts failed.
            let failedCalls = h.upstream.requests.withLock {
                $0.filter { String(decoding: $0.body, as: UTF8.self).contains("error-500") }.count
            }
            #expect(failedCalls >= 1)
            try await h.eventually("every attempt's span") {
                h.receiver.spans.filter { $0.kind == .client }.count == failedCalls + 1
            }
            let errorTypes = Set(
                h.receiver.spans.filter { $0.kind == .client }.compactMap { $0[attribute: "error.type"]?.stringValue })
            #expect(errorTypes.count == 1, "\(errorTypes)")
            let errorType = try #require(errorTypes.first)
            let exposition = try await h.exposition()
            let name = "gen_ai_client_operation_duration_seconds_count"
            #expect(
                try exposition.value(
                    of: name,
                    labels: [
                        "gen_ai_request_model": "primary", "model_group": "primary", "gen_ai_provider_name": "openai",
                        "error_type": errorType,
                    ]) == Double(failedCalls))
            #expect(
                try exposition.value(
                    of: name, labels: ["gen_ai_request_model": "primary", "model_group": "backup", "error_type": ""]) == 1)
            #expect(exposition.samples(name).map(\.value).reduce(0, +) == Double(failedCalls + 1))
            #expect(try exposition.value(of: "spanway_retries_total", labels: ["model_group": "backup"]) == Double(failedCalls))
        }
    }

    @Test func openMetricsScrapesLinkLatencyBucketsToTheRequestsTraces() async throws {
        try await Harness.with(config: Self.config) { h in
            var traces: Set<String> = []
            for model in ["chat", "fast", "primary", "chat"] {
                let reply = try await h.chat(model)
                #expect(reply.status == 200)
                traces.insert(try #require(reply.headers.first(name: "x-spanway-trace-id")))
            }
            #expect(traces.count == 4)
            try await h.eventually("four requests counted") {
                try await h.exposition().samples("spanway_request_duration_seconds_count").map(\.value).reduce(0, +) == 4
            }
            let scrape = try await h.send("/metrics", key: nil, headers: [("accept", Self.prometheusAccept)])
            #expect(scrape.status == 200)
            #expect(
                scrape.headers.first(name: "content-type") == "application/openmetrics-text; version=1.0.0; charset=utf-8")
            #expect(scrape.text.hasSuffix("# EOF\n"))
            let open = try OpenMetricsExposition(scrape.text)
            for family in ["spanway_request_duration_seconds", "gen_ai_client_operation_duration_seconds"] {
                let exemplars = open.samples(family + "_bucket").compactMap(\.exemplar)
                #expect(!exemplars.isEmpty, "\(family)")
                for exemplar in exemplars {
                    #expect(traces.contains(exemplar.labels["trace_id"] ?? ""), "\(family): \(exemplar.labels)")
                    #expect(exemplar.labels["span_id"]?.count == 16)
                }
            }
            #expect(open.types["spanway_requests"] == "counter")

            // Scrapers that do not ask get the 0.0.4 text, without exemplars.
            for accept in [nil, "text/plain;version=0.0.4", "*/*"] {
                let plain = try await h.send("/metrics", key: nil, headers: accept.map { [("accept", $0)] } ?? [])
                #expect(plain.headers.first(name: "content-type") == "text/plain; version=0.0.4; charset=utf-8")
                #expect(!plain.text.contains("# EOF") && !plain.text.contains("trace_id"))
                _ = try MetricsExposition(plain.text)
            }
            if Self.hasPrometheusClient {
                try await Self.checkWithPrometheusClient(scrape.text, traces: traces)
            }
        }
    }

    static let hasPrometheusClient = PythonSDKTests.importable("prometheus_client.openmetrics.parser")

    /// An independent parser: prometheus_client's OpenMetrics parser reads the scrape and the
    /// exemplars' trace ids.
    @Test(.enabled(if: hasPrometheusClient, "needs python3 with prometheus_client (pip install prometheus-client)"))
    func prometheusClientParsesTheOpenMetricsScrape() async throws {
        try await Harness.with(config: Self.config) { h in
            var traces: Set<String> = []
            for model in ["chat", "primary"] {
                let reply = try await h.chat(model)
                traces.insert(try #require(reply.headers.first(name: "x-spanway-trace-id")))
            }
            try await h.eventually("two requests counted") {
                try await h.exposition().samples("spanway_request_duration_seconds_count").map(\.value).reduce(0, +) == 2
            }
            let scrape = try await h.send("/metrics", key: nil, headers: [("accept", Self.prometheusAccept)])
            try await Self.checkWithPrometheusClient(scrape.text, traces: traces)
        }
    }

    static func checkWithPrometheusClient(_ text: String, traces: Set<String>) async throws {
        let script = #"""
            import sys
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
            families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
            names = {f.name: f.type for f in families}
            assert names.get("spanway_requests") == "counter", names
            assert names.get("spanway_request_duration_seconds") == "histogram", names
            for f in families:
                for s in f.samples:
                    if s.exemplar is not None:
                        print("exemplar", f.name, s.exemplar.labels["trace_id"])
            print("ok", len(families))
            """#
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-openmetrics-\(UUID()).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try await PythonSDKTests.runPython(script, [file.path])
        #expect(status == 0, "\(output)")
        let found = output.split(separator: "\n").filter { $0.hasPrefix("exemplar ") }.map { $0.split(separator: " ") }
        #expect(found.contains { $0[1] == "spanway_request_duration_seconds" }, "\(output)")
        #expect(found.contains { $0[1] == "gen_ai_client_operation_duration_seconds" }, "\(output)")
        #expect(found.allSatisfy { traces.contains(String($0[2])) }, "\(output)")
    }
}
