import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// An OpenAI client through the gateway to an Anthropic upstream (the in-process mock speaking Messages).
@Suite(.serialized, .timeLimit(.minutes(3))) struct AnthropicEndToEndTests {
    @Test func chatAndStreamComeBackOpenAIShapedWithAnthropicUsage() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let reply = try await h.send(
                "/v1/chat/completions",
                json:
                    #"{"model":"claude","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say hello"}]}"#
            )
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json?["object"] == "chat.completion")
            #expect(reply.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == MockUpstream.text)
            #expect(reply.json?["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
            let usage = try #require(reply.json?["usage"])
            // Anthropic's input leaves out cache reads; the normalised prompt count includes them.
            #expect(usage["prompt_tokens_details"]?["cached_tokens"]?.intValue == 5)
            let sent = try #require(h.upstream.last)
            #expect(sent.url.hasSuffix("/v1/messages") && sent.headers.first(name: "x-api-key") == Harness.upstreamKey)
            let body = try JSONParser.parse(sent.body)
            #expect(body["system"]?.arrayValue?.first?["text"] == "Be brief." && body["max_tokens"]?.intValue == 4096)

            let streamed = try await h.send(
                "/v1/chat/completions",
                json:
                    #"{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}"#
            )
            let chunks = ssePayloads(streamed.text).dropLast().compactMap { try? JSONParser.parse($0) }
            #expect(ssePayloads(streamed.text).last == "[DONE]")
            #expect(
                chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
                    == MockUpstream.text)
            #expect(chunks.last?["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue == 5)

            try await h.eventually("anthropic client spans with cache-read usage") {
                h.receiver.spans.filter {
                    $0.kind == .client && $0[attribute: "gen_ai.provider.name"]?.stringValue == "anthropic"
                        && $0[attribute: "gen_ai.usage.cache_read.input_tokens"]?.intValue == 5
                }.count == 2
            }
        }
    }
}
