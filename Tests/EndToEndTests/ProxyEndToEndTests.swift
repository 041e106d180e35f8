import AsyncHTTPClient
import Foundation
import GatewayTesting
import NIOCore
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

let e2eConfig = """
    model_list:
      - model_name: gpt-4o-mini
        litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: drip
        litellm_params: {model: openai/drip-40-long, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: e401
        litellm_params: {model: openai/error-401, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: e429
        litellm_params: {model: openai/error-429, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: e500
        litellm_params: {model: openai/error-500, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: slow
        litellm_params: {model: openai/slow-3000, api_base: "{upstream}", timeout: 0.3}
      - model_name: refused
        litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:1/v1"}
      - model_name: garbage
        litellm_params: {model: openai/garbage, api_base: "{upstream}"}
      - model_name: embedder
        litellm_params: {model: openai/text-embedding-3-small, api_base: "{upstream}"}
      - model_name: local
        litellm_params: {model: mock/gpt-4o-mini}
      - model_name: claude
        litellm_params: {model: anthropic/claude-mock, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: cutoff
        litellm_params: {model: openai/cutoff, api_base: "{upstream}"}
      - model_name: local-slow
        litellm_params: {model: mock/slow-300}
    general_settings:
      master_key: sk-e2e-master
      max_request_size_mb: 0.01
    litellm_settings:
      callbacks: ["otel", "prometheus"]
    """

@Suite(.serialized, .timeLimit(.minutes(3))) struct ProxyEndToEndTests {
    @Test func nonStreamingChatIsProxiedPricedAndTraced() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
            let reply = try await h.chat("gpt-4o-mini", extra: [("traceparent", "00-\(traceID)-00f067aa0ba902b7-01")])
            #expect(reply.status == 200)
            #expect(reply.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == MockUpstream.text)
            let usage = try #require(reply.json?["usage"])
            let (input, output) = (usage["prompt_tokens"]?.intValue ?? 0, usage["completion_tokens"]?.intValue ?? 0)
            let expectedCost = Double(input) * 1.5e-7 + Double(output) * 6e-7
            let cost = try #require(reply.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            #expect(abs(cost - expectedCost) < 1e-12)
            #expect(reply.headers.first(name: "x-spanway-trace-id") == traceID)
            #expect(reply.headers.first(name: "x-spanway-model-group") == "gpt-4o-mini")
            #expect(reply.headers.first(name: "x-spanway-deployment")?.isEmpty == false)

            let sent = try #require(h.upstream.last)
            #expect(sent.headers.first(name: "authorization") == "Bearer \(Harness.upstreamKey)")
            #expect(sent.headers.first(name: "traceparent")?.contains(traceID) == true)

            try await h.eventually("server and client spans exported") { h.receiver.spans.count >= 2 }
            let spans = h.receiver.spans
            let server = try #require(spans.first { $0.kind == .server })
            let client = try #require(spans.first { $0.kind == .client })
            #expect(server.traceHex == traceID && client.traceHex == traceID)
            #expect(server.parentSpanID.map { String(format: "%02x", $0) }.joined() == "00f067aa0ba902b7")
            #expect(client.parentSpanID == server.spanID)
            #expect(client.name == "chat gpt-4o-mini")
            #expect(client[attribute: "gen_ai.usage.input_tokens"]?.intValue == Int64(input))
            #expect(client[attribute: "gen_ai.usage.output_tokens"]?.intValue == Int64(output))
            #expect(client[attribute: "gen_ai.usage.cost"]?.doubleValue == cost)
            #expect(client[attribute: "gen_ai.provider.name"]?.stringValue == "openai")
            #expect(client[attribute: "server.port"]?.intValue == Int64(h.upstreamPort))
            // A master-key request is named `master`, never by its digest.
            #expect(client[attribute: "spanway.key.hash"]?.stringValue == "master")
            #expect(client[attribute: "gen_ai.response.finish_reasons"]?.arrayValue.values.first?.stringValue == "stop")
            #expect(server[attribute: "http.response.status_code"]?.intValue == 200)
            let export = try #require(h.receiver.exports.withLock { $0.first })
            #expect(export.headers[.contentType] == "application/x-protobuf")
            #expect(export.headers[.contentEncoding] == "gzip")
            #expect(
                export.request.resourceSpans.first?.resource.attributes.first { $0.key == "service.name" }?.value.stringValue
                    == "spanway-e2e")
            let everything = h.receiver.exports.withLock { $0.map { "\($0.request)" }.joined() }
            #expect(!everything.contains(Harness.upstreamKey) && !everything.contains(Harness.master))
        }
    }

    @Test func streamingRelaysChunksAndHidesUsageUnlessAsked() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let plain = try await h.chat("gpt-4o-mini", stream: true)
            #expect(plain.status == 200 && plain.headers.first(name: "content-type") == "text/event-stream")
            let payloads = ssePayloads(plain.text)
            #expect(payloads.last == "[DONE]")
            let chunks = payloads.dropLast().compactMap { try? JSONParser.parse($0) }
            let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(text == MockUpstream.text)
            #expect(chunks.allSatisfy { $0["usage"] == nil || $0["usage"] == .null })
            #expect(
                h.upstream.last.flatMap { try? JSONParser.parse($0.body) }?["stream_options"]?["include_usage"] == .bool(true))

            let withUsage = try await h.chat("gpt-4o-mini", stream: true, includeUsage: true)
            let usageChunk = ssePayloads(withUsage.text).compactMap { try? JSONParser.parse($0) }.last {
                $0["usage"]?.objectValue != nil
            }
            #expect(usageChunk?["usage"]?["completion_tokens"]?.intValue ?? 0 > 0)

            // Both streams were priced from the usage the upstream reported.
            try await h.eventually("spend counted for both streams") {
                try await h.exposition().value(
                    of: "spanway_requests_total",
                    labels: [
                        "model_group": "gpt-4o-mini", "provider": "openai", "team": "", "key_alias": "master",
                        "status_code": "200",
                    ]) == 2
            }
            try await h.eventually("client spans with usage") {
                h.receiver.spans.filter { $0.kind == .client && $0[attribute: "gen_ai.usage.output_tokens"] != nil }.count == 2
            }
            let client = try #require(h.receiver.spans.first { $0.kind == .client })
            #expect(client[attribute: "gen_ai.request.stream"]?.boolValue == true)
            #expect(client[attribute: "gen_ai.response.time_to_first_chunk"]?.doubleValue ?? -1 >= 0)
            #expect(client[attribute: "gen_ai.usage.cost"]?.doubleValue ?? 0 > 0)
        }
    }

    @Test func clientDisconnectMidStreamCancelsTheUpstream() async throws {
        try await Harness.with(config: e2eConfig) { h in
            var request = HTTPClientRequest(url: h.gatewayURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(Harness.master)")
            request.body = .bytes(
                ByteBuffer(string: #"{"model":"drip","stream":true,"messages":[{"role":"user","content":"x"}]}"#))
            let task = Task {
                let response = try await h.client.execute(request, timeout: .seconds(30))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()  // the first chunk arrived: the stream is live
            }
            try await task.value
            // The response (and its connection) is dropped; the gateway must notice and stop the upstream.
            try await h.eventually("upstream stream abandoned") { h.upstream.abandonedStreams.load(ordering: .relaxed) == 1 }
            try await h.eventually("server span records the disconnect") {
                h.receiver.spans.contains {
                    $0.kind == .server && $0[attribute: "spanway.client.disconnected"]?.boolValue == true
                }
            }
            let server = try #require(h.receiver.spans.first { $0.kind == .server })
            #expect(server[attribute: "error.type"]?.stringValue == "client_disconnected")
            #expect(try await h.exposition().value(of: "spanway_requests_total", labels: ["status_code": "499"]) == 1)
        }
    }

    @Test func upstreamFailuresBecomeOpenAIErrors() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let cases: [(String, Int, String?)] = [
                ("e401", 401, "invalid_api_key"), ("e429", 429, "rate_limit_exceeded"), ("e500", 500, nil),
                ("slow", 408, "timeout"), ("refused", 502, "upstream_unavailable"), ("garbage", 502, "bad_upstream_response"),
            ]
            for (model, status, code) in cases {
                let reply = try await h.chat(model)
                #expect(reply.status == status, "\(model): \(reply.text)")
                let error = reply.json?["error"]
                #expect(error?["message"]?.stringValue?.isEmpty == false, "\(model)")
                #expect(error?["type"]?.stringValue != nil && error?["code"] != nil && error?["param"] != nil, "\(model)")
                if let code { #expect(error?["code"]?.stringValue == code, "\(model)") }
                #expect(!reply.text.contains("sk-mock-bad") && !reply.text.contains(Harness.upstreamKey), "\(model)")
                #expect(reply.headers.first(name: "x-spanway-trace-id") != nil)
            }
            #expect(try await h.chat("e429").headers.first(name: "retry-after") == "1")

            // A stream whose connection closes before its end is an error, not a short answer.
            let cut = try await h.chat("cutoff", stream: true)
            let payloads = ssePayloads(cut.text)
            #expect(payloads.last != "[DONE]", "\(cut.text)")
            #expect(payloads.last.flatMap { try? JSONParser.parse(Array($0.utf8)) }?["error"]?["code"] == "bad_upstream_response")
            try await h.eventually("the cut-off stream's span is an error") {
                h.receiver.spans.contains {
                    $0.kind == .client && $0[attribute: "error.type"]?.stringValue == "bad_upstream_response"
                        && $0[attribute: "gen_ai.request.model"]?.stringValue == "cutoff"
                }
            }
            try await h.eventually("failed client spans carry error.type and ERROR status") {
                let failed = h.receiver.spans.filter { $0.kind == .client && $0[attribute: "error.type"] != nil }
                return failed.count >= 7 && failed.allSatisfy { $0.status.code == .error }
            }
        }
    }

    @Test func inputErrorsAndRoutes() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":["#).status == 400)
            let wrongType = try await h.send("/chat/completions", json: #"{"model":"gpt-4o-mini","messages":"x"}"#)
            #expect(wrongType.status == 400 && wrongType.json?["error"]?["param"]?.stringValue == "messages")
            let unknown = try await h.chat("no-such-model")
            #expect(unknown.status == 404 && unknown.json?["error"]?["code"]?.stringValue == "model_not_found")
            let big = String(repeating: "x", count: 20_000)
            let tooLarge = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\#(big)"}]}"#)
            #expect(tooLarge.status == 413 && tooLarge.json?["error"]?["code"]?.stringValue == "request_too_large")
            #expect(try await h.send("/v1/chat/completions", json: "{}", key: "sk-wrong").status == 401)
            #expect(
                try await h.send("/v1/chat/completions", json: "{}", key: nil).json?["error"]?["type"]?.stringValue
                    == "authentication_error")
            let xAPIKey = try await h.send("/v1/models", key: nil, headers: [("x-api-key", Harness.master)])
            #expect(xAPIKey.status == 200)
            #expect(xAPIKey.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }.contains("embedder") == true)
            #expect(try await h.send("/models").status == 200)
            #expect(try await h.send("/nowhere").json?["error"]?["type"]?.stringValue == "not_found_error")
            #expect(try await h.send("/health/liveliness", key: nil).status == 200)
            #expect(try await h.send("/health/readiness", key: nil).status == 200)
            let embeddings = try await h.send("/embeddings", json: #"{"model":"embedder","input":["a","b"]}"#)
            #expect(embeddings.status == 200 && embeddings.json?["data"]?.arrayValue?.count == 2)
            #expect(embeddings.headers.first(name: "x-spanway-response-cost") != nil)
            let local = try await h.chat("local")
            #expect(local.status == 200 && local.headers.first(name: "x-spanway-response-cost").flatMap(Double.init) ?? 0 > 0)
        }
    }

    @Test func retriesAreVisibleAsAttempts() async throws {
        let config = """
            model_list:
              - model_name: flaky
                litellm_params: {model: openai/error-503, api_base: "{upstream}"}
            router_settings: {num_retries: 2}
            """
        try await Harness.with(config: config) { h in
            let reply = try await h.chat("flaky")
            #expect(reply.status == 503)
            #expect(h.upstream.count == 3)
            try await h.eventually("three attempt spans") { h.receiver.spans.filter { $0.kind == .client }.count == 3 }
            let attempts = h.receiver.spans.filter { $0.kind == .client }.compactMap {
                $0[attribute: "spanway.attempt"]?.intValue
            }
            #expect(attempts.sorted() == [1, 2, 3])
            #expect(h.receiver.spans.first { $0.kind == .server }?[attribute: "spanway.attempts"]?.intValue == 3)
        }
    }
}
