import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy

/// Azure OpenAI's paths on the gateway, `POST /openai/deployments/{deployment}/chat/completions`
/// and `/embeddings`, as `AzureOpenAI` clients call them; and an Azure deployment priced by its
/// `model_info.base_model`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AzureRoutesTests {
    static let config = """
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: embedder
            litellm_params: {model: openai/text-embedding-3-small, api_base: "{upstream}"}
        general_settings: {master_key: sk-e2e-master}
        """

    static let azureKey = "azure-upstream-secret-4242"

    /// The same Azure deployment twice: with `base_model` (priced as the table's `azure/gpt-4o`)
    /// and without (its own name is in no table, so it costs 0).
    static var pricedConfig: String {
        """
        model_list:
          - model_name: priced
            litellm_params: {model: azure/prod-4o, api_base: "{compat}", api_key: \(azureKey), api_version: "2024-06-01"}
            model_info: {base_model: azure/gpt-4o}
          - model_name: unpriced
            litellm_params: {model: azure/prod-4o, api_base: "{compat}", api_key: \(azureKey), api_version: "2024-06-01"}
          - model_name: narrow
            litellm_params: {model: azure/prod-4o, api_base: "{compat}", api_key: \(azureKey)}
            model_info: {base_model: azure/gpt-4o, max_input_tokens: 20}
        router_settings: {enable_pre_call_checks: true}
        general_settings: {master_key: sk-e2e-master}
        spanway_settings: {pricing_file: "\(ShippedPrices.path)"}
        """
    }

    static let chatBody = #"{"messages":[{"role":"user","content":"Say hello"}]}"#

    @Test func chatByDeploymentPathTakesTheGroupFromThePath() async throws {
        try await Harness.with(config: Self.config, otlp: true) { h in
            let path = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-06-01"
            // Azure's key header, no `model` in the body.
            let reply = try await h.send(path, json: Self.chatBody, key: nil, headers: [("api-key", Harness.master)])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == MockUpstream.text)
            #expect(reply.headers["x-spanway-model-group"].first == "gpt-4o-mini")
            #expect(reply.headers["x-spanway-response-cost"].first != nil)
            #expect(h.upstream.last.flatMap { try? JSONParser.parse($0.body)["model"]?.stringValue } == "gpt-4o-mini")
            // The path wins over the body's model.
            let named = try await h.send(
                path, json: #"{"model":"embedder","messages":[{"role":"user","content":"Say hello"}]}"#)
            #expect(named.status == 200 && named.headers["x-spanway-model-group"].first == "gpt-4o-mini", "\(named.text)")
            // Authentication, errors and unknown deployments as on /v1/chat/completions.
            #expect(try await h.send(path, json: Self.chatBody, key: nil).status == 401)
            #expect(try await h.send(path, json: Self.chatBody, key: nil, headers: [("api-key", "sk-wrong")]).status == 401)
            let missing = try await h.send("/openai/deployments/nope/chat/completions", json: Self.chatBody)
            #expect(missing.status == 404 && missing.json?["error"]?["code"]?.stringValue == "model_not_found")
            let limited = try await h.newKey(#"{"models": ["embedder"]}"#)
            #expect(try await h.send(path, json: Self.chatBody, key: limited).status == 403)
            // One span per request, named after the route template (not the deployment: bounded names).
            try await h.eventually("the Azure route's server span") {
                h.receiver.spans.contains { $0.name == "POST /openai/deployments/{deployment}/chat/completions" }
            }
        }
    }

    @Test func streamsAndEmbedsByDeploymentPath() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let stream = try await h.send(
                "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-06-01",
                json:
                    #"{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}"#,
                key: nil, headers: [("api-key", Harness.master)])
            #expect(stream.status == 200)
            let payloads = ssePayloads(stream.text)
            #expect(payloads.last == "[DONE]", "\(stream.text)")
            let text = payloads.compactMap { try? JSONParser.parse($0) }
                .compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(text == MockUpstream.text)
            #expect(payloads.compactMap { try? JSONParser.parse($0) }.contains { $0["usage"]?["prompt_tokens"] != nil })

            let embeddings = try await h.send(
                "/openai/deployments/embedder/embeddings?api-version=2024-06-01", json: #"{"input":["a","b"]}"#, key: nil,
                headers: [("api-key", Harness.master)])
            #expect(embeddings.status == 200, "\(embeddings.text)")
            #expect(embeddings.json?["data"]?.arrayValue?.count == 2)
            #expect(embeddings.headers["x-spanway-model-group"].first == "embedder")
            #expect(h.upstream.last.flatMap { try? JSONParser.parse($0.body)["model"]?.stringValue } == "text-embedding-3-small")
        }
    }

    @Test func baseModelPricesAnAzureDeployment() async throws {
        let row = try ShippedPrices.row("azure/gpt-4o")
        let input = try #require(row["input_cost_per_token"]?.doubleValue)
        let output = try #require(row["output_cost_per_token"]?.doubleValue)
        try await CompatUpstream.with(config: Self.pricedConfig) { h, upstream in
            let reply = try await h.chat("priced")
            #expect(reply.status == 200, "\(reply.text)")
            let usage = try #require(reply.json?["usage"])
            let prompt = try #require(usage["prompt_tokens"]?.intValue)
            let completion = try #require(usage["completion_tokens"]?.intValue)
            let expected = Double(prompt) * input + Double(completion) * output
            let cost = try #require(reply.headers["x-spanway-response-cost"].first.flatMap(Double.init))
            #expect(expected > 0 && abs(cost - expected) <= expected * 1e-6, "cost \(cost), expected \(expected)")
            // The call went to Azure's deployment URL with Azure's key header.
            let call = try #require(upstream.all.last)
            #expect(call.path == "/openai/deployments/prod-4o/chat/completions" && call.query == "api-version=2024-06-01")
            #expect(call.headers[.init("api-key")!] == Self.azureKey)

            // Without base_model the deployment's own name prices nothing.
            let unpriced = try await h.chat("unpriced")
            #expect(unpriced.status == 200)
            #expect(unpriced.headers["x-spanway-response-cost"].first.flatMap(Double.init) == 0)

            // model_info.max_input_tokens is the context window the pre-call check uses.
            let calls = upstream.all.count
            let long = String(repeating: "word ", count: 100)
            let refused = try await h.send(
                "/v1/chat/completions", json: #"{"model":"narrow","messages":[{"role":"user","content":"\#(long)"}]}"#)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.json?["error"]?["message"]?.stringValue?.contains("the largest holds 20") == true, "\(refused.text)")
            #expect(upstream.all.count == calls)
            #expect(try await h.chat("narrow").status == 200)
        }
    }

    static let azureSDKScript = #"""
        import sys, openai
        base, key, expected = sys.argv[1], sys.argv[2], sys.argv[3]
        client = openai.AzureOpenAI(azure_endpoint=base, api_key=key, api_version="2024-06-01", max_retries=0)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])
        assert reply.choices[0].message.content == expected and reply.choices[0].finish_reason == "stop", reply
        assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0, reply.usage
        print("ok chat")
        text, usage = "", None
        stream = client.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "Say hello"}])
        for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                text += choice.delta.content or ""
        assert text == expected, text
        assert usage is not None and usage.completion_tokens > 0, usage
        print("ok stream")
        embeddings = client.embeddings.create(model="embedder", input=["one", "two"])
        assert len(embeddings.data) == 2 and len(embeddings.data[1].embedding) == 4, embeddings
        print("ok embeddings")
        try:
            client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
            sys.exit("an unknown deployment did not raise")
        except openai.NotFoundError:
            print("ok not found")
        """#

    @Test(.enabled(if: PythonSDKTests.hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func officialAzureClientChatsStreamsAndEmbeds() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let (status, output) = try await PythonSDKTests.runPython(
                Self.azureSDKScript, [h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            for line in ["ok chat", "ok stream", "ok embeddings", "ok not found"] {
                #expect(output.contains(line), "\(output)")
            }
            // Chat, stream and embeddings reached the upstream; the unknown deployment did not.
            #expect(h.upstream.count == 3)
        }
    }
}
