import Foundation
import Store
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// Each callback sink end to end: the gateway in-process, its sinks posting to an in-process
/// receiver, payloads checked field by field against each destination's documented format
/// (Langfuse's ingestion and OTLP APIs, Helicone's async log, Sentry envelopes, LiteLLM's
/// `StandardLoggingPayload`).
@Suite(.serialized, .timeLimit(.minutes(3))) struct CallbackSinkTests {
    static let models = """
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: claude
            litellm_params: {model: anthropic/claude-mock, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY,
              input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}
          - model_name: e500
            litellm_params: {model: openai/error-500, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
        general_settings: {master_key: sk-e2e-master}

        """

    static let env = [
        "LANGFUSE_PUBLIC_KEY": "pk-lf-public", "LANGFUSE_SECRET_KEY": "sk-lf-secret-value",
        "LANGFUSE_HOST": "http://{hooks}/langfuse", "HELICONE_API_KEY": "sk-helicone-secret-value",
        "HELICONE_API_BASE": "http://{hooks}/helicone", "SENTRY_DSN": "http://sentrypublic@{hooks}/sentry/42",
        "GENERIC_LOGGER_ENDPOINT": "http://{hooks}/hook", "GENERIC_LOGGER_HEADERS": "x-hook-token=hook-secret-value",
    ]

    static let body = #"{"model":"claude","messages":[{"role":"user","content":"Say hello"}],"user":"end-user-7"}"#

    func key(_ h: Harness, team: String, alias: String) async throws -> String {
        if try await h.send("/team/info?team_id=\(team)").status == 404 {
            #expect(
                try await h.send("/team/new", json: #"{"team_id":"\#(team)","team_alias":"\#(team.uppercased())"}"#).status == 200
            )
        }
        let reply = try await h.send("/key/generate", json: #"{"team_id":"\#(team)","key_alias":"\#(alias)"}"#)
        return try #require(reply.json?["key"]?.stringValue, "\(reply.text)")
    }

    @Test func langfuseOverOTLPCarriesUsageCostTimesAndMetadata() async throws {
        let config = Self.models + "litellm_settings: {callbacks: [\"langfuse_otel\"]}"
        try await Harness.with(config: config, environment: Self.env, otlp: false) { h in
            let key = try await key(h, team: "research", alias: "notebook")
            let reply = try await h.send(
                "/v1/chat/completions", json: Self.body, key: key, headers: [("x-spanway-session-id", "s-1")])
            #expect(reply.status == 200)
            try await h.eventually("Langfuse got the trace") { !h.hooks.received(under: "/langfuse").isEmpty }
            let hook = try #require(h.hooks.received(under: "/langfuse").first)
            #expect(hook.path == "/langfuse/api/public/otel/v1/traces")
            #expect(hook.header("authorization") == "Basic " + Data("pk-lf-public:sk-lf-secret-value".utf8).base64EncodedString())
            #expect(hook.header("content-type") == "application/x-protobuf")
            let export = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: hook.body)
            let spans = export.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
            let server = try #require(spans.first { $0.kind == .server })
            let generation = try #require(spans.first { $0.kind == .client })
            #expect(server[attribute: "langfuse.observation.type"]?.stringValue == "span")
            // The mock Anthropic answer: 5 cache-read tokens inside the input; Langfuse's input is the rest.
            let inputTokens = try #require(generation[attribute: "gen_ai.usage.input_tokens"]?.intValue)
            let outputTokens = try #require(generation[attribute: "gen_ai.usage.output_tokens"]?.intValue)
            let usage = try #require(generation[attribute: "langfuse.observation.usage_details"]?.stringValue)
            let details = try JSONParser.parse(usage)
            #expect(details["input"]?.intValue == Int(inputTokens) - 5)
            #expect(details["input_cached_tokens"]?.intValue == 5)
            #expect(details["output"]?.intValue == Int(outputTokens))
            #expect(details["total"]?.intValue == Int(inputTokens + outputTokens))
            let cost = try #require(generation[attribute: "gen_ai.usage.cost"]?.doubleValue)
            let costDetails = try JSONParser.parse(
                try #require(generation[attribute: "langfuse.observation.cost_details"]?.stringValue))
            #expect(costDetails["total"]?.doubleValue == cost)
            #expect(reply.headers.first(name: "x-spanway-response-cost").flatMap(Double.init) == cost)
            let start = try #require(generation[attribute: "langfuse.observation.completion_start_time"]?.stringValue)
            #expect(start.hasSuffix("Z") && start.count == 24)
            #expect(generation[attribute: "langfuse.user.id"]?.stringValue == "end-user-7")
            #expect(generation[attribute: "langfuse.session.id"]?.stringValue == "s-1")
            #expect(generation[attribute: "langfuse.trace.metadata.team_id"]?.stringValue == "research")
            #expect(generation[attribute: "langfuse.trace.metadata.key_alias"]?.stringValue == "notebook")
            #expect(generation[attribute: "langfuse.observation.input"] == nil, "no content unless capture is on")
            #expect(!h.hooks.everything.contains(key))
        }
    }

    @Test func langfuseBatchIngestionSendsTraceAndGenerationEvents() async throws {
        let config = Self.models + "litellm_settings: {success_callback: [\"langfuse\"]}"
        try await Harness.with(config: config, environment: Self.env, otlp: false) { h in
            #expect(try await h.chat("claude").status == 200)
            try await h.eventually("Langfuse got the batch") { !h.hooks.received(under: "/langfuse").isEmpty }
            let hook = try #require(h.hooks.received(under: "/langfuse").first)
            #expect(hook.path == "/langfuse/api/public/ingestion")
            #expect(hook.header("authorization")?.hasPrefix("Basic ") == true)
            let batch = try #require(hook.json?["batch"]?.arrayValue)
            #expect(batch.map { $0["type"]?.stringValue } == ["trace-create", "generation-create"])
            let trace = try #require(batch.first?["body"])
            let generation = try #require(batch.last?["body"])
            #expect(generation["traceId"] == trace["id"])
            #expect(generation["usageDetails"]?["input_cached_tokens"]?.intValue == 5)
            #expect(generation["costDetails"]?["total"]?.doubleValue ?? 0 > 0)
            #expect(generation["startTime"]?.stringValue?.hasSuffix("Z") == true)
            try await h.eventually("counted as exported") {
                h.gateway.pipeline.stats().first { $0.sink == "langfuse" }?.exported == 1
            }
        }
    }

    @Test func heliconeGetsTimingSplitUsageAndProperties() async throws {
        let config = Self.models + "litellm_settings: {success_callback: [\"helicone\"]}"
        try await Harness.with(config: config, environment: Self.env, otlp: false) { h in
            let key = try await key(h, team: "research", alias: "notebook")
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: Self.body.replacingOccurrences(of: "claude", with: "gpt-4o-mini"), key: key
                ).status == 200)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"e500","messages":[{"role":"user","content":"x"}]}"#, key: key
                ).status >= 500)
            // A later success travels the same lane in order: once it is there, the failure would have been too.
            let later = Self.body.replacingOccurrences(of: "claude", with: "gpt-4o-mini")
            #expect(try await h.send("/v1/chat/completions", json: later, key: key).status == 200)
            try await h.eventually("Helicone got both successes") { h.hooks.received(under: "/helicone").count >= 2 }
            let hooks = h.hooks.received(under: "/helicone")
            #expect(hooks.count == 2, "success_callback: failures are not sent")
            let hook = try #require(hooks.first)
            #expect(hook.path == "/helicone/oai/v1/log")
            #expect(hook.header("authorization") == "Bearer sk-helicone-secret-value")
            let log = try #require(hook.json)
            let meta = log["providerRequest"]?["meta"]
            #expect(meta?["Helicone-Property-Team"] == "RESEARCH")
            #expect(meta?["Helicone-Property-KeyAlias"] == "notebook")
            #expect(meta?["Helicone-User-Id"] == "end-user-7")
            #expect(log["providerRequest"]?["json"]?["model"] == "gpt-4o-mini")
            #expect(log["providerResponse"]?["status"]?.intValue == 200)
            #expect(log["providerResponse"]?["json"]?["usage"]?["prompt_tokens"]?.intValue ?? 0 > 0)
            let start = try #require(log["timing"]?["startTime"])
            let end = try #require(log["timing"]?["endTime"])
            let startMs = try #require(start["seconds"]?.intValue) * 1000 + (start["milliseconds"]?.intValue ?? -1)
            let endMs = try #require(end["seconds"]?.intValue) * 1000 + (end["milliseconds"]?.intValue ?? -1)
            #expect(
                (0...999).contains(start["milliseconds"]?.intValue ?? -1)
                    && (0...999).contains(end["milliseconds"]?.intValue ?? -1))
            #expect(startMs <= endMs && abs(Double(startMs) / 1000 - Date().timeIntervalSince1970) < 60)
        }
    }

    @Test func sentryGetsFailuresAsEnvelopes() async throws {
        let config = Self.models + "litellm_settings: {failure_callback: [\"sentry\"]}"
        try await Harness.with(config: config, environment: Self.env) { h in
            let key = try await key(h, team: "research", alias: "notebook")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let failed = try await h.send(
                "/v1/chat/completions", json: #"{"model":"e500","messages":[{"role":"user","content":"x"}]}"#, key: key)
            #expect(failed.status >= 500)
            // A second failure travels the same lane after the success: once both failures are
            // there, the success would have been too.
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"e500","messages":[{"role":"user","content":"y"}]}"#, key: key
                ).status >= 500)
            try await h.eventually("Sentry got both failures") { h.hooks.received(under: "/sentry").count >= 2 }
            let hooks = h.hooks.received(under: "/sentry")
            #expect(hooks.count == 2, "only the failures")
            // Sentry takes one event per envelope and the two are sent concurrently: the one for
            // the first failure is the one naming its trace.
            let traceID = try #require(failed.headers.first(name: "x-spanway-trace-id"))
            let hook = try #require(hooks.first { $0.text.contains(traceID) })
            #expect(hook.path == "/sentry/api/42/envelope/")
            #expect(hook.header("x-sentry-auth")?.hasPrefix("Sentry sentry_key=sentrypublic, sentry_version=7") == true)
            #expect(hook.header("content-type") == "application/x-sentry-envelope")
            let lines = hook.text.split(separator: "\n", omittingEmptySubsequences: false)
            let header = try JSONParser.parse(String(lines[0]))
            let item = try JSONParser.parse(String(lines[1]))
            #expect(item["type"] == "event")
            #expect(item["length"]?.intValue == lines[2].utf8.count)
            let event = try JSONParser.parse(String(lines[2]))
            #expect(header["event_id"] == event["event_id"])
            #expect(event["contexts"]?["trace"]?["trace_id"]?.stringValue == traceID)
            #expect(header["trace"]?["trace_id"]?.stringValue == traceID)
            #expect(event["tags"]?["model_group"] == "e500")
            #expect(event["tags"]?["team_id"] == "research")
            #expect(event["tags"]?["api_key_alias"] == "notebook")
            #expect(event["level"] == "error")
            #expect(event["exception"]?["values"]?.arrayValue?.first?["value"]?.stringValue?.isEmpty == false)
            #expect(!hook.text.contains(key) && !hook.text.contains(Harness.upstreamKey))
        }
    }

    @Test func webhookPostsStandardLoggingPayloads() async throws {
        let config = Self.models + "litellm_settings: {callbacks: [\"generic_api\"]}"
        try await Harness.with(config: config, environment: Self.env) { h in
            let key = try await key(h, team: "research", alias: "notebook")
            let ok = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"e500","messages":[{"role":"user","content":"x"}]}"#, key: key
                ).status >= 500)
            try await h.eventually("both payloads arrived") {
                h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }.count == 2
            }
            let hook = try #require(h.hooks.received(under: "/hook").first)
            #expect(hook.header("x-hook-token") == "hook-secret-value")
            #expect(hook.header("content-type") == "application/json")
            let payloads = h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }
            let success = try #require(payloads.first { $0["status"] == "success" })
            let failure = try #require(payloads.first { $0["status"] == "failure" })
            #expect(success["model_group"] == "claude")
            #expect(success["custom_llm_provider"] == "anthropic")
            #expect(success["call_type"] == "acompletion")
            #expect(success["metadata"]?["user_api_key_team_id"] == "research")
            #expect(success["metadata"]?["user_api_key_alias"] == "notebook")
            #expect(
                success["response_cost"]?.doubleValue == ok.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            let start = try #require(success["startTime"]?.doubleValue)
            let end = try #require(success["endTime"]?.doubleValue)
            #expect(start <= end && abs(start - Date().timeIntervalSince1970) < 60)
            #expect(success["end_user"] == "end-user-7")
            #expect(success["messages"] == .null)
            #expect(failure["response_cost"]?.doubleValue == 0)
            #expect(failure["error_information"]?["error_code"]?.stringValue?.hasPrefix("5") == true)
            #expect(!hook.text.contains(key))
        }
    }
}
