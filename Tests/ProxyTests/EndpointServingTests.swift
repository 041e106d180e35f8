import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// Which deployments serve which endpoint: what their provider can do (natively or through
/// chat) and what their `model_info.mode` says; and how native answers of the new endpoints are
/// read for the span and the price.
@Suite struct EndpointServingTests {
    static func deployment(
        _ provider: String, model: String = "m", mode: String? = nil, adapter: any ProviderAdapter
    ) -> Deployment {
        var config = DeploymentConfig(modelName: "g", provider: provider, model: model, id: "\(provider)-\(model)")
        config.mode = mode
        return Deployment(config: config, adapter: adapter, transport: MockTransport(), price: nil)
    }

    @Test func providersServeWhatTheirAPIsHave() {
        let openAI = OpenAIAdapter()
        #expect(openAI.serving(.responses) == .native)
        #expect(openAI.serving(.audioTranscription) == .native)
        #expect(openAI.serving(.rerank) == .unsupported)
        let groq = ProviderCatalogue.adapters["groq"]!
        #expect(groq.serving(.textCompletion) == .native)
        #expect(groq.serving(.responses) == .viaChat)
        #expect(groq.serving(.imageGeneration) == .unsupported)
        #expect(ProviderCatalogue.adapters["hosted_vllm"]!.serving(.rerank) == .native)
        let anthropic = AnthropicAdapter()
        #expect(anthropic.serving(.responses) == .viaChat)
        #expect(anthropic.serving(.textCompletion) == .viaChat)
        #expect(anthropic.serving(.embeddings) == .unsupported)
        #expect(CohereAdapter().serving(.rerank) == .native)
        #expect(GeminiAdapter(platform: .aiStudio).serving(.responses) == .viaChat)
        #expect(GeminiAdapter(platform: .aiStudio).serving(.moderation) == .unsupported)
        #expect(AzureAdapter().serving(.responses) == .native)
        #expect(AzureAdapter().serving(.moderation) == .unsupported)
    }

    @Test func aKnownModeLimitsADeploymentToItsEndpoints() {
        let image = Self.deployment("openai", mode: "image_generation", adapter: OpenAIAdapter())
        #expect(image.serves(.imageGeneration))
        #expect(!image.serves(.chat))
        #expect(!image.serves(.responses))
        let chat = Self.deployment("openai", mode: "chat", adapter: OpenAIAdapter())
        #expect(chat.serves(.responses) && chat.serves(.textCompletion))
        #expect(!chat.serves(.imageGeneration))
        // No mode known: whatever the provider can do.
        let unknown = Self.deployment("openai", adapter: OpenAIAdapter())
        #expect(unknown.serves(.imageGeneration) && unknown.serves(.chat))
        // LiteLLM's other modes serve none of these; a newer one restricts nothing; a provider
        // that cannot, always does.
        #expect(!Self.deployment("openai", mode: "realtime", adapter: OpenAIAdapter()).serves(.chat))
        #expect(Self.deployment("openai", mode: "some_future_mode", adapter: OpenAIAdapter()).serves(.chat))
        #expect(!Self.deployment("anthropic", mode: "image_generation", adapter: AnthropicAdapter()).serves(.imageGeneration))
    }

    /// OpenAI refuses `/completions` for chat models: only a completion model gets it natively.
    @Test func legacyCompletionsGoNativelyOnlyToCompletionModels() {
        #expect(Self.deployment("openai", mode: "completion", adapter: OpenAIAdapter()).serving(.textCompletion) == .native)
        #expect(Self.deployment("openai", mode: "chat", adapter: OpenAIAdapter()).serving(.textCompletion) == .viaChat)
        #expect(Self.deployment("openai", adapter: OpenAIAdapter()).serving(.textCompletion) == .viaChat)
        #expect(Self.deployment("anthropic", adapter: AnthropicAdapter()).serving(.textCompletion) == .viaChat)
    }

    @Test func aGroupWithNoDeploymentForTheEndpointIsA400NamingModelAndEndpoint() throws {
        let router = ModelRouter(
            deployments: [Self.deployment("openai", mode: "chat", adapter: OpenAIAdapter())], numRetries: 0, seed: 1)
        #expect(try router.attempts(for: "g", now: 0, operation: .chat)?.count == 1)
        do {
            _ = try router.attempts(for: "g", now: 0, requestedModel: "g", operation: .imageGeneration)
            Issue.record("a chat-only group served images")
        } catch {
            #expect(error.status == 400)
            #expect(error.message.contains("'g'") && error.message.contains("/v1/images/generations"))
            #expect(error.param == "model")
        }
    }

    /// Transcripts asked for as text are relayed as text; whisper's duration prices them.
    @Test func transcriptsAreReadForTheirSeconds() throws {
        let form = try OpenAIRequest(
            operation: .audioTranscription,
            form: MultipartForm(
                body: ByteBuffer(
                    string:
                        "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper\r\n--b\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\ntext\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n"
                ), contentType: "multipart/form-data; boundary=b"))
        #expect(form.model == "whisper")
        let text = try OpenAIEndpoints.reply(Array("hello there\n".utf8), for: form)
        #expect(text.contentType?.hasPrefix("text/plain") == true)
        #expect(text.body == Array("hello there\n".utf8))
        // Plain text is asked of the upstream as JSON (which says the duration) and given back as text.
        let upstream = try OpenAIAdapter().request(
            for: form, deployment: DeploymentConfig(modelName: "whisper", provider: "openai", model: "whisper-1", id: "w"))
        let sent = String(decoding: upstream.bodyBytes, as: UTF8.self)
        #expect(sent.contains("name=\"model\"\r\n\r\nwhisper-1\r\n") && sent.contains("name=\"response_format\"\r\n\r\njson\r\n"))
        #expect(upstream.headers.first(name: "content-type") == "multipart/form-data; boundary=b")
        let asText = try OpenAIEndpoints.reply(
            Array(#"{"text":"hello there","usage":{"type":"duration","seconds":4}}"#.utf8), for: form)
        #expect(asText.body == Array("hello there\n".utf8) && asText.units?.seconds == 4)
        var json = form
        json.body["response_format"] = "json"
        let reply = try OpenAIEndpoints.reply(
            Array(#"{"text":"hi","usage":{"type":"duration","seconds":7}}"#.utf8), for: json)
        #expect(reply.units?.seconds == 7)
        #expect(reply.usage == nil)
        // SRT and VTT say the duration in their last cue's end.
        var srt = form
        srt.body["response_format"] = "srt"
        let subtitles = try OpenAIEndpoints.reply(
            Array("1\n00:00:00,000 --> 00:00:04,000\nhello\n\n2\n00:00:04,000 --> 00:01:02,500\nthere\n\n".utf8), for: srt)
        #expect(subtitles.units?.seconds == 62.5 && subtitles.contentType == "application/x-subrip")
        srt.body["response_format"] = "vtt"
        let vtt = try OpenAIEndpoints.reply(Array("WEBVTT\n\n00:00.000 --> 00:03.250\nhello\n\n".utf8), for: srt)
        #expect(vtt.units?.seconds == 3.25 && vtt.contentType == "text/vtt")
        let verbose = try OpenAIEndpoints.reply(Array(#"{"text":"hi","duration":3.5,"language":"english"}"#.utf8), for: json)
        #expect(verbose.units?.seconds == 3.5)
        // A token-billed transcript keeps its usage.
        let tokens = try OpenAIEndpoints.reply(
            Array(#"{"text":"hi","usage":{"type":"tokens","input_tokens":14,"output_tokens":3,"total_tokens":17}}"#.utf8),
            for: json)
        #expect(tokens.usage == Usage(inputTokens: 14, outputTokens: 3))
    }

    @Test func imagesAndResponsesAreReadForUsageAndUnits() throws {
        let images = try OpenAIRequest(
            operation: .imageGeneration, bytes: Array(#"{"model":"image","prompt":"a cat","n":2}"#.utf8))
        let reply = try OpenAIEndpoints.reply(
            Array(#"{"created":1,"data":[{"b64_json":"AA=="},{"b64_json":"AA=="}]}"#.utf8), for: images)
        #expect(reply.units?.images == 2)
        let responses = try OpenAIRequest(operation: .responses, bytes: Array(#"{"model":"m","input":"hi"}"#.utf8))
        let response = try OpenAIEndpoints.reply(
            Array(
                #"{"id":"resp_1","object":"response","status":"completed","model":"gpt-4o","output":[],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":8},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":20},"total_tokens":123}}"#
                    .utf8), for: responses)
        #expect(response.usage == Usage(inputTokens: 36, outputTokens: 87, cacheReadTokens: 8, reasoningTokens: 20))
        #expect(response.finishReasons == ["completed"])
        #expect(response.responseID == "resp_1")
        #expect(throws: GatewayError.self) {
            try OpenAIEndpoints.reply(Array(#"{"id":"x"}"#.utf8), for: responses)
        }
    }

    /// LiteLLM's rerank request to Cohere's v2: dict documents as text, v1-only fields dropped,
    /// `document` put back for `return_documents` (Cohere v2 returns none).
    @Test func cohereRerankTranslatesBothWays() throws {
        let request = try OpenAIRequest(
            operation: .rerank,
            bytes: Array(
                #"{"model":"reranker","query":"capital","documents":["Paris is the capital",{"text":"Berlin"}],"top_n":1,"return_documents":true,"rank_fields":null,"max_chunks_per_doc":3}"#
                    .utf8))
        let upstream = try CohereAdapter().request(
            for: request, deployment: DeploymentConfig(modelName: "reranker", provider: "cohere", model: "rerank-v3.5", id: "c"))
        #expect(upstream.url == "https://api.cohere.com/v2/rerank")
        let body = try JSONParser.parse(upstream.body)
        #expect(body["model"] == "rerank-v3.5")
        #expect(body["documents"] == .array(["Paris is the capital", "Berlin"]))
        #expect(body["top_n"] == .int(1))
        #expect(body["max_chunks_per_doc"] == nil && body["return_documents"] == nil)
        let reply = try CohereAdapter().parseResponse(
            Array(
                #"{"id":"r1","results":[{"index":0,"relevance_score":0.9}],"meta":{"api_version":{"version":"2"},"billed_units":{"search_units":1}}}"#
                    .utf8), for: request)
        let results = try JSONParser.parse(reply.body)["results"]?.arrayValue ?? []
        #expect(results.first?["document"]?["text"] == "Paris is the capital")
        #expect(reply.units?.queries == 1)
    }

    @Test func endpointBodiesAreCheckedNamingTheField() {
        func refusal(_ operation: OpenAIRequest.Operation, _ json: String) -> String? {
            do {
                _ = try OpenAIRequest(operation: operation, bytes: Array(json.utf8))
                return nil
            } catch { return error.param }
        }
        #expect(refusal(.imageGeneration, #"{"model":"i"}"#) == "prompt")
        #expect(refusal(.imageGeneration, #"{"model":"i","prompt":"p","n":11}"#) == "n")
        #expect(refusal(.moderation, #"{"model":"m","input":"x","stream":true}"#) == "stream")
        #expect(refusal(.imageGeneration, #"{"model":"i","prompt":"p","stream":true}"#) == nil)
        #expect(refusal(.audioSpeech, #"{"model":"t","input":"hi"}"#) == "voice")
        #expect(refusal(.rerank, #"{"model":"r","query":"q","documents":[]}"#) == "documents")
        #expect(refusal(.rerank, #"{"model":"r","query":"q","documents":[3]}"#) == "documents[0]")
        #expect(refusal(.moderation, #"{"model":"m"}"#) == "input")
        #expect(refusal(.audioTranscription, #"{"model":"w"}"#) == "file")
        #expect(refusal(.moderation, #"{"model":"m","input":"ok"}"#) == nil)
    }

    /// Imagen through `:predict`: OpenAI's size as the nearest aspect ratio, predictions as
    /// `data`, priced per image from the table (imagen-3.0-generate-001: $0.04 an image).
    @Test func imagenGeneratesOpenAIImages() throws {
        let request = try OpenAIRequest(
            operation: .imageGeneration,
            bytes: Array(#"{"model":"imagen","prompt":"a lighthouse","n":2,"size":"1792x1024"}"#.utf8))
        var config = DeploymentConfig(modelName: "imagen", provider: "gemini", model: "imagen-3.0-generate-001", id: "i")
        config.apiKey = "k"
        let adapter = GeminiAdapter(platform: .aiStudio, environment: [:])
        let upstream = try adapter.request(for: request, deployment: config)
        #expect(upstream.url == "https://generativelanguage.googleapis.com/v1beta/models/imagen-3.0-generate-001:predict")
        let body = try JSONParser.parse(upstream.body)
        #expect(body["instances"] == .array([.object(["prompt": "a lighthouse"])]))
        #expect(body["parameters"]?["sampleCount"] == .int(2))
        #expect(body["parameters"]?["aspectRatio"] == "16:9")
        let reply = try adapter.parseResponse(
            Array(
                #"{"predictions":[{"bytesBase64Encoded":"iVBORw==","mimeType":"image/png"},{"bytesBase64Encoded":"iVBORx==","mimeType":"image/png"},{"raiFilteredReason":"filtered"}]}"#
                    .utf8), for: request)
        let data = try JSONParser.parse(reply.body)["data"]?.arrayValue ?? []
        #expect(data.map { $0["b64_json"] } == ["iVBORw==", "iVBORx=="])
        #expect(reply.units?.images == 2)
        let price = try #require(PriceBook.bundled?.price(model: "imagen-3.0-generate-001", provider: "gemini"))
        #expect(abs((price.cost(of: reply.usage, units: reply.units) ?? 0) - 0.08) < 1e-12)
        var wrongSize = request.body
        wrongSize["size"] = "big"
        #expect(throws: GatewayError.self) { try GeminiImages.request(wrongSize) }
    }

    /// A Responses request's prompt is counted from the text of its items and instructions (for
    /// pre-call checks and for interrupted streams), not as zero.
    @Test func responsesItemsCountTowardsThePrompt() throws {
        let text = String(repeating: "word ", count: 40)
        let asString = try OpenAIRequest(
            operation: .responses, bytes: Array(#"{"model":"m","input":"\#(text)"}"#.utf8))
        let asItems = try OpenAIRequest(
            operation: .responses,
            bytes: Array(
                #"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"\#(text)"}]}]}"#.utf8))
        let withInstructions = try OpenAIRequest(
            operation: .responses, bytes: Array(#"{"model":"m","instructions":"\#(text)","input":"\#(text)"}"#.utf8))
        let counter = PromptCounter.estimating
        let plain = counter.inputTokens(asString, deployment: nil).tokens
        #expect(plain > 0)
        #expect(counter.inputTokens(asItems, deployment: nil).tokens == plain)
        #expect(counter.inputTokens(withInstructions, deployment: nil).tokens == 2 * plain)
    }
}
