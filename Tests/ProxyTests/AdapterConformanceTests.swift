import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

/// One provider under test: its adapter and a deployment to build requests for. Adding a provider
/// is a row here plus its fixture rows in `Fixtures/manifest.json`.
struct ConformingProvider: Sendable {
    var adapter: any ProviderAdapter
    var deployment: DeploymentConfig
    /// Whether the adapter forwards the client's OpenAI body as it is (nothing to translate).
    var passesBodyThrough = false
    /// Whether reasoning text in the upstream's answer reaches the client as `reasoning_content`.
    /// Bedrock's `reasoningContent` blocks do not yet.
    var relaysReasoningText = true

    static let all: [String: ConformingProvider] = [
        "openai": ConformingProvider(
            adapter: OpenAIAdapter(),
            deployment: DeploymentConfig(
                modelName: "g", provider: "openai", model: "gpt-4o", id: "d", apiBase: "http://up/v1", apiKey: "k"),
            passesBodyThrough: true),
        "azure": ConformingProvider(
            adapter: AzureAdapter(),
            deployment: DeploymentConfig(
                modelName: "g", provider: "azure", model: "gpt-4o", id: "d", apiBase: "https://res.openai.azure.com",
                apiKey: "k"),
            passesBodyThrough: true),
        "anthropic": ConformingProvider(
            adapter: AnthropicAdapter(),
            deployment: DeploymentConfig(modelName: "g", provider: "anthropic", model: "claude-sonnet-4-5", id: "d", apiKey: "k")),
        "gemini": ConformingProvider(
            adapter: GeminiAdapter(platform: .aiStudio, environment: [:]),
            deployment: DeploymentConfig(modelName: "g", provider: "gemini", model: "gemini-2.5-flash", id: "d", apiKey: "k")),
        "bedrock": ConformingProvider(
            adapter: BedrockAdapter(environment: [:]),
            deployment: {
                var deployment = DeploymentConfig(
                    modelName: "g", provider: "bedrock", model: "anthropic.claude-3-5-haiku-20241022-v1:0", id: "d", apiKey: "k")
                deployment.providerParams = ["aws_region_name": "us-east-1"]
                return deployment
            }(),
            relaysReasoningText: false),
        "cohere": ConformingProvider(
            adapter: CohereAdapter(),
            deployment: DeploymentConfig(modelName: "g", provider: "cohere", model: "command-a-03-2025", id: "d", apiKey: "k")),
        "ollama": ConformingProvider(
            adapter: OllamaAdapter(),
            deployment: DeploymentConfig(modelName: "g", provider: "ollama", model: "qwen3:8b", id: "d")),
    ]

    static func named(_ name: String) throws -> ConformingProvider {
        try #require(all[name], "no conforming provider named \(name)")
    }
}

/// One row of `Fixtures/manifest.json`: a recorded upstream answer, its kind, status and headers.
struct FixtureRow: Sendable, CustomTestStringConvertible {
    var provider: String
    var file: String
    var kind: String
    var status: Int
    var headers: [String: String]

    var testDescription: String { file }

    var httpHeaders: HTTPHeaders {
        HTTPHeaders(headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    static let all: [FixtureRow] = {
        // A test-only fixture: failing to read it is a broken checkout, not a case to handle.
        let manifest = try! Fixture.json("manifest.json")
        return (manifest.arrayValue ?? []).map { row in
            FixtureRow(
                provider: row["provider"]?.stringValue ?? "", file: row["file"]?.stringValue ?? "",
                kind: row["kind"]?.stringValue ?? "", status: row["status"]?.intValue ?? 0,
                headers: Dictionary(
                    uniqueKeysWithValues: (row["headers"]?.objectValue?.members ?? []).compactMap { member in
                        member.value.stringValue.map { (member.key, $0) }
                    }))
        }
    }()

    static func of(_ kind: String) -> [FixtureRow] { all.filter { $0.kind == kind } }
}

/// What an OpenAI client must get for each recorded upstream error: the status and code of the
/// gateway's error normalisation (context window and content policy recognised in each
/// provider's words, 529 overloaded as 503), and the wait the upstream asked for, in whole seconds.
enum ExpectedError {
    struct Outcome {
        var status: Int
        /// Nil where the upstream's own code is passed through.
        var code: String?
        var retryAfter: String? = nil
    }

    static let outcomes: [String: Outcome] = [
        "openai/error.context_length_exceeded.json": Outcome(status: 400, code: "context_length_exceeded"),
        // retry-after-ms 636 rounds up to one second.
        "openai/error.rate_limit.json": Outcome(status: 429, code: "rate_limit_exceeded", retryAfter: "1"),
        "azure/error.content_filter.json": Outcome(status: 400, code: "content_policy_violation"),
        // Azure's code is the status as a string ("429"), passed through as its code.
        "azure/error.rate_limit.json": Outcome(status: 429, code: nil, retryAfter: "6"),
        "azure/error.deployment_not_found.json": Outcome(status: 404, code: "model_not_found"),
        "anthropic/error.overloaded.json": Outcome(status: 503, code: nil),
        "anthropic/error.prompt_too_long.json": Outcome(status: 400, code: "context_length_exceeded"),
        // RetryInfo.retryDelay "17s".
        "gemini/error.resource_exhausted.json": Outcome(status: 429, code: "rate_limit_exceeded", retryAfter: "17"),
        "gemini/error.context_too_long.json": Outcome(status: 400, code: "context_length_exceeded"),
        // A bad key is Google's 400 with reason API_KEY_INVALID.
        "gemini/error.invalid_api_key.json": Outcome(status: 401, code: "invalid_api_key"),
        "bedrock/error.throttling.json": Outcome(status: 429, code: "rate_limit_exceeded"),
        "bedrock/error.validation_too_long.json": Outcome(status: 400, code: "context_length_exceeded"),
        "bedrock/error.access_denied.json": Outcome(status: 403, code: "permission_denied"),
        "cohere/error.rate_limit.json": Outcome(status: 429, code: "rate_limit_exceeded"),
        "cohere/error.too_many_tokens.json": Outcome(status: 400, code: "context_length_exceeded"),
        "cohere/error.invalid_token.json": Outcome(status: 401, code: "invalid_api_key"),
        "ollama/error.model_not_found.json": Outcome(status: 404, code: "model_not_found"),
    ]
}

/// What a client assembles from a stream, without the ids some providers make up anew each time.
private struct StreamSummary: Equatable {
    var content: String
    var reasoning: String
    var toolCalls: [String]
    var finishReason: String?
    var usage: JSONValue?
    var errors: [JSONValue]
    var sawDone: Bool

    init(_ transcript: StreamTranscript) {
        content = transcript.content
        reasoning = transcript.reasoning
        toolCalls = transcript.toolCalls.keys.sorted().map { index in
            let call = transcript.toolCalls[index]
            return "\(index) \(call?.name ?? "?") \(call?.arguments ?? "")"
        }
        finishReason = transcript.finishReason
        usage = transcript.usage
        errors = transcript.errors
        sawDone = transcript.sawDone
    }
}

/// Every provider adapter against its recorded fixtures: answers, streams (split at every byte),
/// tools, and every error fixture, each checked against the normalised values the client must get.
@Suite struct AdapterConformanceTests {
    @Test func everyManifestRowHasAProviderAndAnExpectation() throws {
        #expect(!FixtureRow.all.isEmpty)
        let scenarioA = try Fixture.json("scenario-a.normalized.json")
        let scenarioB = try Fixture.json("scenario-b.normalized.json")
        for row in FixtureRow.all {
            #expect(ConformingProvider.all[row.provider] != nil, "\(row.file)")
            switch row.kind {
            case "chat": #expect(scenarioA[row.file] != nil, "\(row.file)")
            case "chat-stream": #expect(scenarioB[row.file] != nil, "\(row.file)")
            case "error": #expect(ExpectedError.outcomes[row.file] != nil, "\(row.file)")
            case "chat-stream-error", "content-policy", "embeddings": break
            default: Issue.record("unknown kind \(row.kind) for \(row.file)")
            }
        }
    }

    /// Scenario A: content, finish reason, reasoning text (the client opted in) and usage, with a
    /// breakdown the provider does not report left out rather than sent as 0.
    @Test(arguments: FixtureRow.of("chat"))
    func answer(_ row: FixtureRow) throws {
        let provider = try ConformingProvider.named(row.provider)
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")[row.file])
        var request = try chat(#"{"model":"g","messages":[{"role":"user","content":"What is the capital of France?"}]}"#)
        request.includeReasoning = true
        let reply = try provider.adapter.parseResponse(try Fixture.bytes(row.file), for: request)
        let body = try JSONParser.parse(reply.body)
        let choice = body["choices"]?.arrayValue?.first
        #expect(body["object"] == "chat.completion")
        #expect(choice?["message"]?["content"] == expected["content"])
        #expect(choice?["finish_reason"] == expected["finish_reason"])
        #expect(reply.finishReasons == [expected["finish_reason"]?.stringValue ?? "?"])
        if provider.relaysReasoningText {
            #expect((choice?["message"]?["reasoning_content"] ?? .null) == expected["reasoning_content"])
        }

        let usage = try #require(body["usage"])
        let wanted = try #require(expected["usage"])
        for field in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            #expect(usage[field] == wanted[field], "\(field)")
        }
        for (group, field) in [("prompt_tokens_details", "cached_tokens"), ("completion_tokens_details", "reasoning_tokens")] {
            let sent = usage[group]?[field]
            let reported = wanted[group]?[field]
            #expect(sent == (reported == .null ? nil : reported), "\(group).\(field)")
        }
        // The span's usage, and what the stream relay would read back from this usage object.
        let spanUsage = try #require(reply.usage)
        #expect(spanUsage.inputTokens == wanted["prompt_tokens"]?.intValue)
        #expect(spanUsage.outputTokens == wanted["completion_tokens"]?.intValue)
        #expect(spanUsage.cacheReadTokens == wanted["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0)
        #expect(spanUsage.reasoningTokens == wanted["completion_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0)
        #expect(CanonicalUsage.parse(usage) == spanUsage)
    }

    /// Scenario B fed one byte at a time (so every read boundary falls at every byte), then in
    /// pieces of other sizes and whole: the client assembles the same answer each time, and it is
    /// the expected one.
    @Test(arguments: FixtureRow.of("chat-stream"))
    func streamSplitAtEveryByte(_ row: FixtureRow) throws {
        let provider = try ConformingProvider.named(row.provider)
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")[row.file])
        let bytes = try Fixture.bytes(row.file)

        let bytewise = try StreamTranscript.decodeBytewise(bytes, with: provider.adapter.makeStreamDecoder(for: streamedChat))
        try bytewise.expectMatches(expected)
        let reference = StreamSummary(bytewise)
        for size in [2, 3, 7, 13, 64, 1000, bytes.count] {
            var decoder = provider.adapter.makeStreamDecoder(for: streamedChat)
            var chunks: [StreamChunk] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                chunks += try decoder.feed(ByteBuffer(bytes: bytes[start..<min(start + size, bytes.count)]))
            }
            chunks += try decoder.finish()
            #expect(StreamSummary(try StreamTranscript(chunks)) == reference, "pieces of \(size) bytes")
        }
    }

    /// A failure after the stream started is one OpenAI-shaped error event, the last thing sent,
    /// with no `[DONE]`; what was relayed before it stays relayed.
    @Test(arguments: FixtureRow.of("chat-stream-error"))
    func streamFailure(_ row: FixtureRow) throws {
        let provider = try ConformingProvider.named(row.provider)
        let chunks = try StreamTranscript.chunksBytewise(
            try Fixture.bytes(row.file), with: provider.adapter.makeStreamDecoder(for: streamedChat))
        let transcript = try StreamTranscript(chunks)
        #expect(transcript.errors.count == 1)
        #expect(!transcript.sawDone)
        #expect(!transcript.content.isEmpty, "the text before the failure was relayed")
        guard case .chunk(let last, _)? = chunks.last else {
            Issue.record("the stream ended without an error event")
            return
        }
        let error = try #require(last["error"]?.objectValue)
        // Anthropic's mid-stream error event carries no `param` member today; the others send null.
        #expect(Set(error.keys).isSuperset(of: ["code", "message", "type"]))
        #expect(error["message"]?.stringValue?.isEmpty == false)
        #expect(error["type"]?.stringValue?.isEmpty == false)
    }

    @Test(arguments: FixtureRow.of("error"))
    func upstreamError(_ row: FixtureRow) throws {
        let provider = try ConformingProvider.named(row.provider)
        let expected = try #require(ExpectedError.outcomes[row.file])
        let error = provider.adapter.mapError(
            status: row.status, headers: row.httpHeaders, body: try Fixture.bytes(row.file), deployment: provider.deployment)
        #expect(error.status == expected.status)
        if let code = expected.code { #expect(error.code == code) }
        #expect(error.headers["retry-after"] == expected.retryAfter)
        #expect(!error.message.isEmpty && !error.errorType.isEmpty)
        let body = try #require(error.body["error"]?.objectValue)
        #expect(body.keys.sorted() == ["code", "message", "param", "type"])
        #expect(error.isContextWindowExceeded == (expected.code == "context_length_exceeded"))
        #expect(error.isContentPolicyViolation == (expected.code == "content_policy_violation"))
    }

    /// A prompt blocked outright is a content-policy error (the router can fall back on it); an
    /// answer stopped for safety is an answer that finished with `content_filter`.
    @Test(arguments: FixtureRow.of("content-policy"))
    func contentPolicy(_ row: FixtureRow) throws {
        let provider = try ConformingProvider.named(row.provider)
        let request = try chat(#"{"model":"g","messages":[{"role":"user","content":"q"}]}"#)
        let bytes = try Fixture.bytes(row.file)
        let blocked = try JSONParser.parse(bytes)["candidates"]?.arrayValue?.isEmpty ?? true
        do throws(GatewayError) {
            let reply = try provider.adapter.parseResponse(bytes, for: request)
            #expect(!blocked, "a blocked prompt was answered")
            #expect(reply.finishReasons == ["content_filter"])
        } catch {
            #expect(blocked, "\(error.message)")
            #expect(error.isContentPolicyViolation && error.status == 400)
        }
    }

    @Test(arguments: FixtureRow.of("embeddings"))
    func embeddings(_ row: FixtureRow) throws {
        let provider = try ConformingProvider.named(row.provider)
        let bytes = try Fixture.bytes(row.file)
        let request = try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"e","input":"hello"}"#.utf8))
        let reply = try provider.adapter.parseResponse(bytes, for: request)
        let body = try JSONParser.parse(reply.body)
        #expect(body["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.isEmpty == false)
        let fixtureTokens = try JSONParser.parse(bytes)["usage"]?["prompt_tokens"]?.intValue
        #expect(reply.usage?.inputTokens == fixtureTokens)
    }

    /// A conversation with a tool, a call and its result goes upstream with the tool and the result
    /// in it; a call whose arguments are not a JSON object is refused naming the field, never
    /// sent as `{}`.
    @Test(arguments: ConformingProvider.all.keys.sorted())
    func tools(_ name: String) throws {
        let provider = try ConformingProvider.named(name)
        let conversation = #"""
            {"model":"g","tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",
             "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "messages":[{"role":"user","content":"What's the weather in Paris right now?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
               "function":{"name":"get_weather","arguments":"ARGUMENTS"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"18 degrees and sunny"}]}
            """#
        let valid = conversation.replacingOccurrences(of: "ARGUMENTS", with: #"{\"city\":\"Paris\"}"#)
        let upstream = try provider.adapter.request(for: try chat(valid), deployment: provider.deployment)
        let sent = String(decoding: upstream.body, as: UTF8.self)
        #expect(sent.contains("get_weather") && sent.contains("18 degrees and sunny") && sent.contains("Paris"))
        guard !provider.passesBodyThrough else { return }
        let broken = conversation.replacingOccurrences(of: "ARGUMENTS", with: "not json")
        let refusal = try provider.adapter.refusal(broken, deployment: provider.deployment)
        #expect(refusal?.status == 400)
        #expect(refusal?.param == "messages[1].tool_calls[0].function.arguments")
    }
}
