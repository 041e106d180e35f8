import NIOCore
import NIOHTTP1
import Telemetry

/// Cohere's v2 API (`cohere/…`, `cohere_chat/…`): OpenAI chat requests translated to `/v2/chat`
/// and embeddings to `/v2/embed`, answers and event streams translated back, errors mapped
/// (https://docs.cohere.com/reference/chat).
public struct CohereAdapter: ProviderAdapter {
    public var genAIProviderName: String { "cohere" }
    public var defaultAPIBase: String { "https://api.cohere.com" }
    /// LiteLLM's name. The Cohere SDK's `CO_API_KEY` is not read: the protocol takes one name.
    public var apiKeyEnvironment: String? { "COHERE_API_KEY" }
    public init() {}

    /// Chat, embeddings and rerank; Responses and legacy completions through chat.
    public func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        switch operation {
        case .chat, .embeddings, .rerank: .native
        case .responses, .textCompletion: .viaChat
        default: .unsupported
        }
    }

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        var headers = HTTPHeaders.json(bearer: deployment.apiKey)
        let body: JSONObject
        let path: String
        switch request.operation {
        case .chat:
            body = try CohereRequest.chat(request.body, model: deployment.model, dropParams: deployment.dropParams)
            path = "/chat"
            if request.stream { headers.add(name: "accept", value: "text/event-stream") }
        case .embeddings:
            body = try CohereRequest.embed(request, model: deployment.model)
            path = "/embed"
        case .rerank:
            body = CohereRerank.request(request.body, model: deployment.model)
            path = "/rerank"
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
        return UpstreamRequest(url: endpoint(deployment, path), headers: headers, body: JSONValue.object(body).encoded())
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        switch request.operation {
        case .chat: try chatReply(body, for: request)
        case .embeddings: try embeddingsReply(body, for: request)
        case .rerank: try CohereRerank.reply(body, for: request)
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
    }

    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        CohereStreamDecoder(emitsReasoningContent: request.includeReasoning)
    }

    /// Cohere errors are `{"message"}` plus the status (https://docs.cohere.com/reference/errors). 498 is either an unsafe request or a
    /// bad token depending on who describes it, so the message decides.
    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let json = try? JSONParser.parse(body)
        let text =
            json?["message"]?.stringValue ?? json?["error"]?.stringValue
            ?? "The upstream provider answered HTTP \(status)."
        let message = SecretRedactor.scrub(text, secrets: deployment.secrets)
        switch status {
        case 401:
            return .authentication(message)
        case 402:
            // A billing limit: retrying will not help, and OpenAI calls it insufficient_quota.
            return GatewayError(.upstream(.quotaExhausted), message)
        case 498:
            let lowered = message.lowercased()
            let unsafe = ["unsafe", "safety", "blocked", "content policy"].contains { lowered.contains($0) }
            return unsafe ? .contentPolicyViolation(message) : .authentication(message)
        case 499:
            return .upstream(clientStatus: 400, message, detail: .init(code: "request_cancelled"))
        default:
            return UpstreamStatusError.make(status: status, message: message, headers: headers)
        }
    }

    /// `api_base` + `/v2` + `path`. A base that already ends in a version (`/v2`, or the `/v1` of
    /// older LiteLLM configs) has it replaced: this adapter speaks only v2.
    private func endpoint(_ deployment: DeploymentConfig, _ path: String) -> String {
        var base = deployment.apiBase ?? defaultAPIBase
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") || base.hasSuffix("/v2") { base.removeLast(3) }
        return base + "/v2" + path
    }

    private func chatReply(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body), let object = json.objectValue,
            let message = object["message"], message.objectValue != nil
        else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a Cohere chat response.")
        }
        var text = message["content"]?.stringValue ?? ""
        var thinking = ""
        for item in message["content"]?.arrayValue ?? [] {
            switch item["type"]?.stringValue {
            case "text": text += item["text"]?.stringValue ?? ""
            case "thinking": thinking += item["thinking"]?.stringValue ?? ""
            default: break
            }
        }
        // The preamble before tool calls is what OpenAI models put in content.
        if text.isEmpty, let plan = message["tool_plan"]?.stringValue { text = plan }
        let toolCalls = try Self.toolCalls(message["tool_calls"])
        let reason = object["finish_reason"]?.stringValue
        if text.isEmpty && toolCalls.isEmpty, let failure = Self.failure(reason) { throw failure }
        let finish = Self.finishReason(reason, sawToolCall: !toolCalls.isEmpty)
        let reply = CanonicalCompletion.message(
            text: text, toolCalls: toolCalls, reasoning: request.includeReasoning ? thinking : nil)
        // Cohere names no model in its answer: the one asked for is echoed.
        return CanonicalCompletion.reply(
            id: .string(object["id"]?.stringValue ?? RequestTranslation.makeID("chatcmpl-")),
            model: .string(request.model), responseModel: nil,
            choices: [CanonicalCompletion.choice(message: reply, finish: finish)], usage: Self.usage(object["usage"]),
            reported: Self.reportedUsage, finishReasons: [finish])
    }

    private func embeddingsReply(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body, limits: .upstreamResponse),
            let vectors = json["embeddings"]?["float"]?.arrayValue ?? json["embeddings"]?.arrayValue
        else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a Cohere embed response.")
        }
        let meta = json["meta"]
        let tokens = (meta?["tokens"]?["input_tokens"] ?? meta?["billed_units"]?["input_tokens"])?.tokenCount
        let reply = try EmbeddingsTranslation.openAIBody(
            vectors: vectors, model: request.model, promptTokens: tokens, for: request)
        return ProviderReply(
            body: reply, usage: tokens.map { Usage(inputTokens: $0, outputTokens: 0) }, responseID: json["id"]?.stringValue,
            responseModel: nil, finishReasons: [])
    }

    /// Cohere's tool calls already have OpenAI's shape; arguments are made a JSON string even if an
    /// upstream sends an object.
    static func toolCalls(_ value: JSONValue?) throws(GatewayError) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard let calls = value.arrayValue else {
            throw .badUpstreamResponse("The upstream's 'message.tool_calls' is not an array.")
        }
        var out: [JSONValue] = []
        for call in calls {
            guard let name = call["function"]?["name"]?.stringValue else {
                throw .badUpstreamResponse("The upstream sent a tool call without a function name.")
            }
            let arguments = RequestTranslation.argumentsText(call["function"]?["arguments"])
            out.append(
                .object(
                    CanonicalToolCall.json(
                        id: .string(call["id"]?.stringValue ?? RequestTranslation.makeID("call_")), name: .string(name),
                        arguments: arguments)))
        }
        return out
    }

    /// `tokens` is what the model processed and is what OpenAI's usage means; `billed_units` (what
    /// Cohere charges, usually a little less input) is only the fallback.
    static func usage(_ json: JSONValue?) -> Usage? {
        guard let json, let object = json.objectValue else { return nil }
        let tokens = object["tokens"]
        let billed = object["billed_units"]
        guard let input = (tokens?["input_tokens"] ?? billed?["input_tokens"])?.tokenCount else { return nil }
        let output = (tokens?["output_tokens"] ?? billed?["output_tokens"])?.tokenCount ?? 0
        return Usage(inputTokens: input, outputTokens: output, cacheReadTokens: object["cached_tokens"]?.tokenCount ?? 0)
    }

    /// Cohere reports cached prompt tokens but no reasoning count.
    static let reportedUsage: CanonicalUsage.Details = [.cachedTokens]

    /// `TOOL_CALL` is Cohere's own tool-call reason; `ERROR` and `TIMEOUT` after some output are a
    /// plain stop (LiteLLM's choice), see `failure` for the case with none.
    static func finishReason(_ reason: String?, sawToolCall: Bool) -> String {
        switch reason {
        case "MAX_TOKENS": "length"
        case "TOOL_CALL": "tool_calls"
        default: sawToolCall ? "tool_calls" : "stop"
        }
    }

    /// `ERROR` or `TIMEOUT` with nothing produced is a failed call, not an empty answer.
    static func failure(_ reason: String?) -> GatewayError? {
        switch reason {
        case "ERROR":
            .upstreamUnavailable(
                "Cohere ended the generation with ERROR before producing any output.", errorType: "upstream_error")
        case "TIMEOUT":
            .upstream(clientStatus: 504, "Cohere timed out before producing any output.")
        default:
            nil
        }
    }
}
