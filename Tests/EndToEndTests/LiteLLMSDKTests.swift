import Foundation
import Testing

@testable import OTLPProto
@testable import Proxy

/// The `litellm` SDK as a client, the way a LiteLLM proxy's users call it:
/// `litellm.completion(model="litellm_proxy/<group>", api_base=…, api_key=…)`. Needs
/// `pip install litellm`; `.ci/run` installs it, so CI always runs this.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LiteLLMSDKTests {
    static let hasLiteLLM = PythonSDKTests.importable("litellm")

    /// Checks the SDK's parsed objects and exceptions; prints `ok …` lines, exits non-zero on a mismatch.
    static let script = #"""
        import os, sys
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        import litellm
        base, key, mock_key, tiny_key, expected = sys.argv[1:6]
        messages = [{"role": "user", "content": "Say hello"}]
        def call(api_key, **extra):
            return litellm.completion(model="litellm_proxy/gpt-4o-mini", api_base=base, api_key=api_key,
                                      messages=messages, num_retries=0, **extra)

        # The SDK keeps `metadata=` for its own callbacks; what the proxy should see goes in the body.
        reply = call(key, extra_body={"metadata": {"trace_name": "sdk-trace"}, "tags": ["sdk"]})
        assert reply.choices[0].message.content == expected, reply
        headers = reply._hidden_params.get("additional_headers", {})
        cost = float(headers["llm_provider-x-litellm-response-cost"])
        assert abs(cost - (reply.usage.prompt_tokens * 1.5e-7 + reply.usage.completion_tokens * 6e-7)) < 1e-12, (cost, reply.usage)
        print("ok completion", flush=True)

        last = None
        for chunk in call(key, stream=True, stream_options={"include_usage": True}):
            last = chunk
        usage = last.usage
        assert abs(usage.cost - (usage.prompt_tokens * 1.5e-7 + usage.completion_tokens * 6e-7)) < 1e-12, usage
        print("ok stream cost")

        embedded = litellm.embedding(model="litellm_proxy/embedder", api_base=base, api_key=key, input=["a", "b"])
        assert len(embedded.data) == 2, embedded
        print("ok embedding")

        # The SDK would answer `mock_response` itself; in the body it is the gateway's to answer.
        mocked = call(mock_key, extra_body={"mock_response": "Canned."})
        assert mocked.choices[0].message.content == "Canned." and mocked.usage.total_tokens == 0, mocked
        print("ok mock_response")

        call(tiny_key)
        try:
            call(tiny_key)
            sys.exit("a spent key was answered")
        except litellm.exceptions.APIError as error:
            assert error.status_code == 422 and "Budget has been exceeded!" in str(error), error
        except Exception as error:
            assert getattr(error, "status_code", None) == 422 and "Budget has been exceeded!" in str(error), (type(error), error)
        print("ok budget")
        """#

    @Test(.enabled(if: hasLiteLLM, "needs python3 with the litellm package (pip install litellm)"))
    func litellmSDKUsesTheGatewayAsItsProxy() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await h.newKey()
            let mockKey = try await h.newKey(#"{"metadata":{"allow_client_mock_response":true}}"#)
            let tinyKey = try await h.newKey(#"{"max_budget":0.0000001}"#)
            let (status, output) = try await PythonSDKTests.runPython(
                Self.script, [h.gatewayURL, key, mockKey, tinyKey, MockUpstream.text])
            #expect(status == 0, "\(output)")
            for line in ["ok completion", "ok stream cost", "ok embedding", "ok mock_response", "ok budget"] {
                #expect(output.contains(line), "\(output)")
            }
            try await h.eventually("the SDK's metadata is on the request's span") {
                h.receiver.spans.contains { $0[attribute: "spanway.request.metadata.trace_name"]?.stringValue == "sdk-trace" }
            }
        }
    }
}
