import Foundation
import Telemetry
import Testing

@testable import Proxy

/// The pre-call context-window check counts an OpenAI model's prompt with its encoding: a prompt
/// of many tokens per byte, which the bytes ÷ 4 estimate would let through, goes to the larger
/// context window.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PreCallTokenCountTests {
    static func config(tokenizerDirectory: String) -> String {
        """
        router_settings:
          enable_pre_call_checks: true
          context_window_fallbacks: [{small: [big]}]
        model_list:
          - {model_name: small, litellm_params: {model: openai/gpt-3.5-turbo, api_base: "{upstream}"}}
          - {model_name: big, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}}
        spanway_settings:
          tokenizer_dir: "\(tokenizerDirectory)"
        """
    }

    /// "1 " 10,000 times: 20,000 bytes, so 5,000 tokens by the estimate (gpt-3.5-turbo holds
    /// 16,385), but cl100k_base cuts every digit and every space into a piece of its own
    /// (`\p{N}{1,3}`, then `\s` before a digit): 20,000 tokens, which do not fit.
    static let prompt = String(repeating: "1 ", count: 10_000)

    static func sentModels(_ h: Harness) -> [JSONValue?] {
        h.upstream.requests.withLock { $0.map { try? JSONParser.parse($0.body)["model"] } }
    }

    @Test(.enabled(if: CountTokensTests.rankDirectory != nil, "needs SPANWAY_TOKENIZER_DIR (.ci/run fetches the rank files)"))
    func theTokenizerCountDecides() async throws {
        try await Harness.with(config: Self.config(tokenizerDirectory: CountTokensTests.rankDirectory ?? "")) { h in
            #expect(await h.gateway.flow.attempts.prompts.counter.store?.loaded(.cl100kBase) != nil)
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"small","messages":[{"role":"user","content":"\#(Self.prompt)"}]}"#)
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            #expect(Self.sentModels(h) == [.string("gpt-4o-mini")])
        }
    }

    /// Without the rank file the same prompt is estimated, fits, and goes to the small model.
    @Test func withoutTheRankFileTheEstimateDecides() async throws {
        try await Harness.with(config: Self.config(tokenizerDirectory: "/nonexistent/spanway-tokenizers")) { h in
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"small","messages":[{"role":"user","content":"\#(Self.prompt)"}]}"#)
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            #expect(Self.sentModels(h) == [.string("gpt-3.5-turbo")])
        }
    }
}
