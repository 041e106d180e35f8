import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// Gemini and Bedrock through the HTTP server: an OpenAI client gets OpenAI shapes back, the
/// upstream gets its native request (Gemini's key in a header, Bedrock's SigV4 signature), and
/// the spans carry the provider's name and the normalised tokens of the fixtures.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TranslatedProvidersEndToEndTests {
    /// `model_list` comes last so that other tests can append deployments.
    static let config = """
        litellm_settings: {callbacks: [otel]}
        model_list:
          - model_name: gemini
            litellm_params: {model: gemini/gemini-2.5-flash, api_base: "{upstream_root}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: bedrock
            litellm_params:
              model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
              api_base: "{upstream_root}"
              aws_region_name: eu-west-1
              aws_access_key_id: AKIDEXAMPLE
              aws_secret_access_key: os.environ/E2E_UPSTREAM_KEY
        """
    static let question = #"{"model":"MODEL","messages":[{"role":"user","content":"What is the capital of France?"}]}"#
    static let weather = #"""
        {"model":"MODEL","stream":true,"stream_options":{"include_usage":true},
         "messages":[{"role":"user","content":"What's the weather in Paris right now?"}],
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string"}}}}}]}
        """#

    @Test(arguments: [("gemini", "gcp.gemini"), ("bedrock", "aws.bedrock")])
    func providerAnswersInOpenAIShape(model: String, providerName: String) async throws {
        try await Harness.with(config: Self.config) { h in
            let reply = try await h.send(
                "/v1/chat/completions", json: Self.question.replacingOccurrences(of: "MODEL", with: model))
            #expect(reply.status == 200, "\(reply.text)")
            let choice = reply.json?["choices"]?.arrayValue?.first
            #expect(reply.json?["object"] == "chat.completion")
            #expect(choice?["message"]?["content"] == "The capital of France is Paris." && choice?["finish_reason"] == "stop")
            #expect(reply.json?["usage"]?["prompt_tokens"]?.intValue == 1250)
            #expect(reply.json?["usage"]?["completion_tokens"]?.intValue == 73)
            #expect(reply.json?["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue == 1024)

            #expect(choice?["message"]?["reasoning_content"] == nil, "reasoning text only for clients that opt in")
            if model == "gemini" {
                let opted = try await h.send(
                    "/v1/chat/completions", json: Self.question.replacingOccurrences(of: "MODEL", with: model),
                    headers: [("x-spanway-reasoning-content", "true")])
                let reasoning = opted.json?["choices"]?.arrayValue?.first?["message"]?["reasoning_content"]?.stringValue
                #expect(reasoning?.hasPrefix("The user asks for the capital of France.") == true, "\(opted.text)")
            }
            let sent = try #require(h.upstream.last)
            #expect(!sent.url.contains(Harness.upstreamKey))
            if model == "gemini" {
                #expect(sent.url == "/v1beta/models/gemini-2.5-flash:generateContent")
                #expect(sent.headers.first(name: "x-goog-api-key") == Harness.upstreamKey)
                #expect(try JSONParser.parse(sent.body)["contents"]?.arrayValue?.first?["role"] == "user")
            } else {
                #expect(sent.url == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse")
                let authorization = sent.headers.first(name: "authorization") ?? ""
                #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
                #expect(authorization.contains("/eu-west-1/bedrock/aws4_request") && !authorization.contains(Harness.upstreamKey))
                #expect(sent.headers.first(name: "x-amz-date") != nil)
                #expect(try JSONParser.parse(sent.body)["messages"]?.arrayValue?.first?["role"] == "user")
            }

            let streamed = try await h.send(
                "/v1/chat/completions", json: Self.weather.replacingOccurrences(of: "MODEL", with: model))
            #expect(streamed.status == 200)
            let payloads = ssePayloads(streamed.text)
            #expect(payloads.last == "[DONE]", "\(streamed.text)")
            let chunks = payloads.dropLast().compactMap { try? JSONParser.parse($0) }
            let deltas = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"] }
            #expect(deltas.compactMap { $0["content"]?.stringValue }.joined() == "Let me check the current weather in Paris.")
            let calls = deltas.flatMap { $0["tool_calls"]?.arrayValue ?? [] }
            #expect(calls.compactMap { $0["function"]?["name"]?.stringValue } == ["get_weather"])
            let arguments = calls.compactMap { $0["function"]?["arguments"]?.stringValue }.joined()
            #expect(try JSONParser.parse(Array(arguments.utf8)) == .object(["city": "Paris", "unit": "celsius"]))
            #expect(chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }.last == "tool_calls")
            #expect(
                chunks.last?["usage"]?["prompt_tokens"]?.intValue == 312
                    && chunks.last?["usage"]?["completion_tokens"]?.intValue == 41)

            try await h.eventually("\(providerName) client spans with normalised tokens") {
                let spans = h.receiver.spans.filter {
                    $0.kind == .client && $0[attribute: "gen_ai.provider.name"]?.stringValue == providerName
                }
                return spans.count == (model == "gemini" ? 3 : 2)
                    && spans.contains {
                        $0[attribute: "gen_ai.usage.input_tokens"]?.intValue == 1250
                            && $0[attribute: "gen_ai.usage.output_tokens"]?.intValue == 73
                    }
                    && spans.contains {
                        $0[attribute: "gen_ai.usage.input_tokens"]?.intValue == 312
                            && $0[attribute: "gen_ai.usage.output_tokens"]?.intValue == 41
                    }
            }
            for span in h.receiver.spans {
                #expect(!"\(span)".contains(Harness.upstreamKey), "a provider secret reached a span")
            }
        }
    }

    /// A catalogue provider needs only its key, read from LiteLLM's environment variable.
    @Test func compatibleProviderTakesItsKeyFromTheEnvironment() async throws {
        let config = """
            model_list:
              - model_name: fast
                litellm_params: {model: groq/llama-3.1-8b-instant, api_base: "{upstream}"}
            """
        try await Harness.with(config: config, environment: ["GROQ_API_KEY": Harness.upstreamKey]) { h in
            let reply = try await h.chat("fast")
            #expect(reply.status == 200, "\(reply.text)")
            let sent = try #require(h.upstream.last)
            #expect(sent.headers.first(name: "authorization") == "Bearer \(Harness.upstreamKey)")
            #expect(try JSONParser.parse(sent.body)["model"] == "llama-3.1-8b-instant")
        }
    }
}
