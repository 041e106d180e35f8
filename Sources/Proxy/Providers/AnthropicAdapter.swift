import Foundation
import NIOCore
import NIOHTTP1
import Telemetry

/// Anthropic's Messages API (`anthropic/…`): OpenAI requests translated to Messages, answers and
/// named-event streams translated back, errors mapped (529 `overloaded_error` becomes 503).
public struct AnthropicAdapter: ProviderAdapter {
    public var genAIProviderName: String { "anthropic" }
    public var defaultAPIBase: String { "https://api.anthropic.com" }
    /// Used when the client sets no output limit (Messages requires one).
    static let defaultMaxTokens = 4096
    /// OpenAI parameters with no Messages equivalent: refused by name rather than silently dropped.
    static let unsupported = ["logprobs", "top_logprobs", "logit_bias", "seed", "presence_penalty", "frequency_penalty"]

    public init() {}

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
        let body = try AnthropicRequest.translate(request.body, model: deployment.model)
        return UpstreamRequest(url: url, headers: headers, body: JSONValue.object(body).encoded())
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body), let message = json.objectValue,
            let blocks = message["content"]?.arrayValue
        else {
            throw .badUpstreamResponse("The upstream answered with a body that is not an Anthropic message.")
        }
        var text = ""
        var toolCalls: [JSONValue] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use":
                toolCalls.append(.object([
                    "id": block["id"] ?? .null, "type": "function",
                    "function": .object([
                        "name": block["name"] ?? .null, "arguments": .string((block["input"] ?? .object([:])).encodedString()),
                    ]),
                ]))
            default: break  // thinking and server-tool blocks have no OpenAI field
            }
        }
        let finish = Self.finishReason(message["stop_reason"]?.stringValue)
        let usage = message["usage"].flatMap(Self.usage)
        var reply: JSONObject = [
            "role": "assistant", "content": text.isEmpty && !toolCalls.isEmpty ? .null : .string(text),
        ]
        if !toolCalls.isEmpty { reply["tool_calls"] = .array(toolCalls) }
        var completion: JSONObject = [
            "id": message["id"] ?? .null, "object": "chat.completion", "created": .int(Int(Date().timeIntervalSince1970)),
            "model": message["model"] ?? .null,
            "choices": .array([.object(["index": .int(0), "message": .object(reply), "finish_reason": .string(finish)])]),
        ]
        if let usage { completion["usage"] = Self.openAIUsage(usage) }
        return ProviderReply(
            body: JSONValue.object(completion).encoded(), usage: usage, responseID: message["id"]?.stringValue,
            responseModel: message["model"]?.stringValue, finishReasons: [finish])
    }

    public func makeStreamDecoder() -> any ChatStreamDecoder {
        AnthropicStreamDecoder()
    }

    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let error = (try? JSONParser.parse(body))?["error"]
        let type = error?["type"]?.stringValue
        let message = SecretRedactor.scrub(
            error?["message"]?.stringValue ?? "The upstream provider answered HTTP \(status).",
            secrets: [deployment.apiKey].compactMap { $0 })
        let contextWindow = message.contains("prompt is too long") || message.contains("exceed context limit")
        let clientStatus = status == 529 ? 503 : OpenAIAdapter.clientStatus(forUpstream: status)
        var mapped = GatewayError(
            status: clientStatus, type: Self.openAIErrorType(type, status: clientStatus), message: message,
            code: contextWindow ? "context_length_exceeded" : type, errorType: contextWindow ? "context_length_exceeded" : (type ?? String(status)))
        if let retryAfter = headers.first(name: "retry-after") { mapped.headers["retry-after"] = retryAfter }
        return mapped
    }

    /// Anthropic reports input without cache reads and writes; GenAI input includes them.
    static func usage(_ json: JSONValue) -> Usage? {
        guard let input = json["input_tokens"]?.intValue else { return nil }
        let cacheRead = json["cache_read_input_tokens"]?.intValue ?? 0
        let cacheCreation = json["cache_creation_input_tokens"]?.intValue ?? 0
        return Usage(
            inputTokens: input + cacheRead + cacheCreation, outputTokens: json["output_tokens"]?.intValue ?? 0,
            cacheReadTokens: cacheRead, cacheCreationTokens: cacheCreation,
            reasoningTokens: json["output_tokens_details"]?["thinking_tokens"]?.intValue ?? 0)
    }

    static func openAIUsage(_ usage: Usage) -> JSONValue {
        .object([
            "prompt_tokens": .int(usage.inputTokens), "completion_tokens": .int(usage.outputTokens),
            "total_tokens": .int(usage.totalTokens),
            "prompt_tokens_details": .object(["cached_tokens": .int(usage.cacheReadTokens)]),
            "completion_tokens_details": .object(["reasoning_tokens": .int(usage.reasoningTokens)]),
        ])
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens", "model_context_window_exceeded", "pause_turn": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    static func openAIErrorType(_ type: String?, status: Int) -> String {
        switch type {
        case "authentication_error": "authentication_error"
        case "permission_error": "permission_denied"
        case "not_found_error": "not_found_error"
        case "rate_limit_error": "rate_limit_exceeded"
        case "invalid_request_error": "invalid_request_error"
        default: OpenAIAdapter.errorType(forStatus: status)
        }
    }
}
