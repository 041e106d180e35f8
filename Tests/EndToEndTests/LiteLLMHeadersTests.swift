import GatewayTesting
import Testing

/// The answer's facts under LiteLLM's header names as well, for clients and tools written for it.
@Suite(.timeLimit(.minutes(3))) struct LiteLLMHeadersTests {
    static let config = """
        model_list:
          - model_name: primary
            litellm_params: {model: mock/error-500}
          - model_name: backup
            litellm_params: {model: mock/gpt-4o-mini}
        router_settings: {num_retries: 0, fallbacks: [{primary: [backup]}]}
        general_settings: {master_key: sk-e2e-master}
        """

    @Test func answersCarryLiteLLMsHeaders() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let reply = try await h.chat("primary")
            #expect(reply.status == 200)
            let header = { (name: String) in reply.headers.first(name: name) }
            #expect(header("x-litellm-call-id") != nil && header("x-litellm-call-id") == header("x-spanway-request-id"))
            #expect(header("x-litellm-response-cost") != nil)
            #expect(header("x-litellm-response-cost") == header("x-spanway-response-cost"))
            // After the fallback: the group that answered, and the model the client asked for.
            #expect(header("x-litellm-model-group") == "backup" && header("x-spanway-model-group") == "backup")
            #expect(header("x-spanway-requested-model") == "primary")
            #expect(header("x-litellm-model-id") != nil && header("x-litellm-model-id") == header("x-spanway-deployment"))
            #expect(header("x-litellm-attempted-fallbacks") == "1")
            #expect(header("x-litellm-attempted-retries") == "0")
            let overhead = try #require(header("x-litellm-overhead-duration-ms").flatMap(Double.init))
            #expect(overhead >= 0 && overhead.isFinite)

            // A stream's cost is not known when its headers go out (LiteLLM leaves it out too).
            let streamed = try await h.chat("backup", stream: true)
            #expect(streamed.status == 200 && streamed.headers.first(name: "x-litellm-response-cost") == nil)
            #expect(streamed.headers.first(name: "x-litellm-attempted-fallbacks") == "0")

            // A refusal costs nothing, and says so.
            let refused = try await h.chat("no-such-model")
            #expect(refused.status == 404 && refused.headers.first(name: "x-litellm-response-cost") == "0")
        }
    }
}
