import NIOCore
import NIOHTTP1
import Telemetry

/// Anthropic's Messages API (`anthropic/…`): OpenAI requests translated to Messages, answers and
/// named-event streams translated back, errors mapped (529 `overloaded_error` becomes 503).
public struct AnthropicAdapter: ProviderAdapter {
    public var genAIProviderName: String { "anthropic" }
    public var defaultAPIBase: String { "https://api.anthropic.com" }
    public var apiKeyEnvironment: String? { "ANTHROPIC_API_KEY" }
    /// Used when the client sets no output limit (Messages requires one).
    static let defaultMaxTokens = 4096
    /// OpenAI parameters with no Messages equivalent: refused by name unless `drop_params`.
    static let unsupported = UnsupportedParams(
        provider: "Anthropic",
        names: ["logprobs", "top_logprobs", "logit_bias", "seed", "presence_penalty", "frequency_penalty"],
        canDisableParallelToolCalls: true)

    public init() {}

    /// As `tool_choice.disable_parallel_tool_use`.
    public var takesParallelToolCallsOff: Bool { true }

    /// Chat; Responses and legacy completions through it.
    public func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        switch operation {
        case .chat: .native
        case .responses, .textCompletion: .viaChat
        default: .unsupported
        }
    }

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        guard request.operation == .chat else {
            throw .invalidRequest("Anthropic has no embeddings API.", param: "model")
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "anthropic-version", value: deployment.apiVersion ?? "2023-06-01")
        if let key = deployment.apiKey, !key.isEmpty { headers.add(name: "x-api-key", value: key) }
        var base = deployment.apiBase ?? defaultAPIBase
        while base.hasSuffix("/") { base.removeLast() }
        let url = base.hasSuffix("/v1") ? base + "/messages" : base + "/v1/messages"
        let body = try AnthropicRequest.translate(request.body, deployment: deployment)
        return UpstreamRequest(url: url, headers: headers, body: JSONValue.object(body).encoded())
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body), let message = json.objectValue,
            let blocks = message["content"]?.arrayValue
        else {
            throw .badUpstreamResponse("The upstream answered with a body that is not an Anthropic message.")
        }
        let jsonMode = Self.isJSONMode(request)
        var text = ""
        var thinking = ""
        var toolCalls: [JSONValue] = []
        var answeredJSON = false
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use" where jsonMode && block["name"]?.stringValue == AnthropicRequest.jsonTool:
                text += (block["input"] ?? .object([:])).encodedString()
                answeredJSON = true
            case "tool_use":
                toolCalls.append(
                    .object(
                        CanonicalToolCall.json(
                            id: block["id"] ?? .null, name: block["name"] ?? .null,
                            arguments: (block["input"] ?? .object([:])).encodedString())))
            case "thinking": thinking += block["thinking"]?.stringValue ?? ""
            default: break  // redacted thinking and server-tool blocks have no OpenAI field
            }
        }
        let stop = message["stop_reason"]?.stringValue
        let finish = answeredJSON && stop == "tool_use" ? "stop" : Self.finishReason(stop)
        let reply = CanonicalCompletion.message(
            text: text, toolCalls: toolCalls, reasoning: request.includeReasoning ? thinking : nil)
        return CanonicalCompletion.reply(
            id: message["id"] ?? .null, model: message["model"] ?? .null, responseModel: message["model"]?.stringValue,
            choices: [CanonicalCompletion.choice(message: reply, finish: finish)],
            usage: message["usage"].flatMap(Self.usage), reported: Self.reportedUsage, finishReasons: [finish])
    }

    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        AnthropicStreamDecoder(jsonMode: Self.isJSONMode(request), includeReasoning: request.includeReasoning)
    }

    /// Whether the request asked for JSON, which is answered through `AnthropicRequest.jsonTool`.
    static func isJSONMode(_ request: OpenAIRequest) -> Bool {
        (try? AnthropicRequest.jsonSchema(request.body["response_format"])) != nil
    }

    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let error = (try? JSONParser.parse(body))?["error"]
        let type = error?["type"]?.stringValue
        let message = SecretRedactor.scrub(
            error?["message"]?.stringValue ?? "The upstream provider answered HTTP \(status).",
            secrets: deployment.secrets)
        if type == "request_too_large" || (status == 400 && UpstreamErrorText.isContextWindowExceeded(message)) {
            return .contextWindowExceeded(message, status: status)
        }
        if message.lowercased().contains("content filtering policy") { return .contentPolicyViolation(message) }
        let clientStatus = status == 529 ? 503 : UpstreamStatus.clientStatus(forUpstream: status)
        var mapped = GatewayError.upstream(
            clientStatus: clientStatus, message, detail: .init(type: Self.openAIErrorType(type), code: type),
            label: type ?? String(status))
        // Normalised (and clamped) rather than passed through: the header is the upstream's.
        if let retryAfter = UpstreamStatus.retryAfterSeconds(headers) { mapped.headers["retry-after"] = retryAfter }
        return mapped
    }

    /// Anthropic reports cache reads, and thinking tokens in `output_tokens_details`.
    static let reportedUsage: CanonicalUsage.Details = [.cachedTokens, .reasoningTokens]

    /// Anthropic reports input without cache reads and writes; GenAI input includes them.
    static func usage(_ json: JSONValue) -> Usage? {
        guard let input = json["input_tokens"]?.tokenCount else { return nil }
        let cacheRead = json["cache_read_input_tokens"]?.tokenCount ?? 0
        let cacheCreation = json["cache_creation_input_tokens"]?.tokenCount ?? 0
        return Usage(
            inputTokens: input + cacheRead + cacheCreation, outputTokens: json["output_tokens"]?.tokenCount ?? 0,
            cacheReadTokens: cacheRead, cacheCreationTokens: cacheCreation,
            reasoningTokens: json["output_tokens_details"]?["thinking_tokens"]?.tokenCount ?? 0)
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens", "model_context_window_exceeded", "pause_turn": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// OpenAI's `error.type` for Anthropic's, or nil where the status alone decides it.
    static func openAIErrorType(_ type: String?) -> String? {
        switch type {
        case "authentication_error": "authentication_error"
        case "permission_error": "permission_denied"
        case "not_found_error": "not_found_error"
        case "rate_limit_error": "rate_limit_exceeded"
        case "invalid_request_error": "invalid_request_error"
        default: nil
        }
    }
}
