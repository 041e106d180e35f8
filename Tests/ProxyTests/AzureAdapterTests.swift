import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct AzureAdapterTests {
    let adapter = AzureAdapter()
    let deployment = DeploymentConfig(
        modelName: "gpt", provider: "azure", model: "my gpt-4o", id: "d", apiBase: "https://res.openai.azure.com/",
        apiKey: "azure-secret-key", apiVersion: "2024-10-21")

    @Test func buildsDeploymentURLsWithTheKeyInAHeader() throws {
        let upstream = try adapter.request(
            for: chat(#"{"model":"gpt","messages":[{"role":"user","content":"hi"}],"stream":true}"#), deployment: deployment)
        #expect(
            upstream.url == "https://res.openai.azure.com/openai/deployments/my%20gpt-4o/chat/completions?api-version=2024-10-21")
        #expect(upstream.headers.first(name: "api-key") == "azure-secret-key")
        #expect(upstream.headers.first(name: "authorization") == nil)
        let body = try JSONParser.parse(upstream.body)
        #expect(body["stream_options"]?["include_usage"] == true)

        var v1 = deployment
        v1.apiBase = "https://res.openai.azure.com/openai/v1"
        let embeddings = try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"gpt","input":"x"}"#.utf8))
        #expect(try adapter.request(for: embeddings, deployment: v1).url == "https://res.openai.azure.com/openai/v1/embeddings")

        var noBase = deployment
        noBase.apiBase = nil
        #expect(throws: GatewayError.self) {
            try adapter.request(for: chat(#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#), deployment: noBase)
        }
    }

    @Test func parsesScenarioA() throws {
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")["azure/chat.response.json"])
        let reply = try adapter.parseResponse(
            try Fixture.bytes("azure/chat.response.json"),
            for: chat(#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#))
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == expected["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue)
        #expect(usage.reasoningTokens == expected["usage"]?["completion_tokens_details"]?["reasoning_tokens"]?.intValue)
        #expect(reply.finishReasons == [expected["finish_reason"]?.stringValue ?? ""])
    }

    /// Scenario B a byte at a time; the leading `prompt_filter_results` chunk never reaches the client.
    @Test func streamsScenarioBWithoutTheFilterChunk() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["azure/chat.stream.sse"])
        var decoder = adapter.makeStreamDecoder(for: streamedChat)
        var ids: [String] = []
        for chunk in try decoder.feed(ByteBuffer(bytes: try Fixture.bytes("azure/chat.stream.sse"))) + decoder.finish() {
            if case .chunk(let object, _) = chunk { ids.append(object["id"]?.stringValue ?? "") }
        }
        #expect(!ids.isEmpty && !ids.contains(""))
        let transcript = try StreamTranscript.decodeBytewise(
            try Fixture.bytes("azure/chat.stream.sse"), with: adapter.makeStreamDecoder(for: streamedChat))
        try transcript.expectMatches(expected)
    }

    @Test func mapsAzureErrors() throws {
        let filtered = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("azure/error.content_filter.json"), deployment: deployment)
        #expect(filtered.isContentPolicyViolation && filtered.status == 400 && filtered.param == "prompt")
        let missing = adapter.mapError(
            status: 404, headers: [:], body: try Fixture.bytes("azure/error.deployment_not_found.json"), deployment: deployment)
        #expect(missing.status == 404 && missing.code == "model_not_found")
        let limited = adapter.mapError(
            status: 429, headers: ["retry-after-ms": "5500"], body: try Fixture.bytes("azure/error.rate_limit.json"),
            deployment: deployment)
        #expect(limited.status == 429 && limited.isRetryable && limited.headers["retry-after"] == "6")
        let leaky = adapter.mapError(
            status: 401, headers: [:], body: Array(#"{"error":{"code":"401","message":"bad key azure-secret-key"}}"#.utf8),
            deployment: deployment)
        #expect(leaky.status == 401 && !leaky.message.contains("azure-secret-key"))
    }
}

@Suite struct ProviderCatalogueTests {
    @Test func compatibleProvidersNeedOnlyAKey() throws {
        let groq = try #require(ProviderCatalogue.adapters["groq"])
        #expect(groq.apiKeyEnvironment == "GROQ_API_KEY" && groq.genAIProviderName == "groq")
        let deployment = DeploymentConfig(modelName: "g", provider: "groq", model: "llama-3.1-8b-instant", id: "g", apiKey: "gsk")
        let request = try OpenAIRequest(
            operation: .chat, bytes: Array(#"{"model":"g","messages":[{"role":"user","content":"hi"}]}"#.utf8))
        let upstream = try groq.request(for: request, deployment: deployment)
        #expect(upstream.url == "https://api.groq.com/openai/v1/chat/completions")
        #expect(try JSONParser.parse(upstream.body)["model"] == "llama-3.1-8b-instant")
        for prefix in [
            "together_ai", "fireworks_ai", "deepinfra", "mistral", "xai", "openrouter", "deepseek", "perplexity",
            "cerebras", "hosted_vllm", "lm_studio", "llamafile", "huggingface", "databricks", "nvidia_nim",
        ] {
            #expect(ProviderCatalogue.adapters[prefix] != nil, "\(prefix)")
        }
        #expect(ProviderCatalogue.adapters["xai"]?.genAIProviderName == "x_ai")
        #expect(ProviderCatalogue.adapters["mistral"]?.genAIProviderName == "mistral_ai")
        #expect(ProviderCatalogue.needingAPIBase.isSuperset(of: ["azure", "databricks"]))
        #expect(!ProviderCatalogue.needingAPIBase.contains("groq"))
    }

    /// OpenTelemetry's well-known `gen_ai.provider.name` for each native provider.
    @Test func providerNamesFollowTheConventions() {
        let names = [
            "openai": "openai", "anthropic": "anthropic", "azure": "azure.ai.openai", "gemini": "gcp.gemini",
            "vertex_ai": "gcp.vertex_ai", "bedrock": "aws.bedrock", "cohere": "cohere", "cohere_chat": "cohere",
            "ollama": "ollama", "ollama_chat": "ollama", "ollama_openai": "ollama", "groq": "groq", "deepseek": "deepseek",
            "perplexity": "perplexity",
        ]
        for (prefix, name) in names {
            #expect(ProviderCatalogue.adapters[prefix]?.genAIProviderName == name, "\(prefix)")
        }
    }

    /// Spans name the host a deployment really calls, which for Bedrock and Vertex depends on its region.
    @Test func serverAddressFollowsTheDeploymentsRegion() throws {
        func address(_ provider: String, _ params: [String: String]) throws -> String? {
            var config = DeploymentConfig(modelName: "m", provider: provider, model: "m", id: "m")
            config.providerParams = params
            let adapter = try #require(ProviderCatalogue.adapters[provider])
            return Deployment(config: config, adapter: adapter, transport: MockTransport(), price: nil).serverAddress
        }
        #expect(try address("bedrock", ["aws_region_name": "eu-west-1"]) == "bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(
            try address("vertex_ai", ["vertex_project": "p", "vertex_location": "europe-west4"])
                == "europe-west4-aiplatform.googleapis.com")
        #expect(try address("groq", [:]) == "api.groq.com")
    }

    @Test func openAIErrorsAreTyped() throws {
        let adapter = OpenAIAdapter()
        let deployment = DeploymentConfig(modelName: "g", provider: "openai", model: "m", id: "g", apiKey: "sk-x")
        let tooLong = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("openai/error.context_length_exceeded.json"),
            deployment: deployment)
        #expect(tooLong.isContextWindowExceeded && tooLong.status == 400 && !tooLong.isRetryable)
        let vllm = adapter.mapError(
            status: 400, headers: [:],
            body: Array(
                #"{"error":{"message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError"}}"#.utf8),
            deployment: deployment)
        #expect(vllm.isContextWindowExceeded)
        let policy = adapter.mapError(
            status: 400, headers: [:],
            body: Array(
                #"{"error":{"message":"Your request was rejected","type":"invalid_request_error","code":"content_policy_violation"}}"#
                    .utf8),
            deployment: deployment)
        #expect(policy.isContentPolicyViolation && policy.status == 400)
        let parameter = adapter.mapError(
            status: 400, headers: [:],
            body: Array(#"{"error":{"message":"Invalid 'user': string too long","code":"string_above_max_length"}}"#.utf8),
            deployment: deployment)
        #expect(!parameter.isContextWindowExceeded)
    }
}
