import Foundation
import Telemetry

/// Anthropic's Messages format on the way in (`POST /v1/messages`), so that Claude Code and the
/// Anthropic SDK can reach any configured model: a Messages request becomes an OpenAI chat
/// request for the pipeline, and the OpenAI answer becomes a Messages answer.
enum AnthropicInbound {
    /// A Messages request as an OpenAI chat completion request.
    static func chatRequest(from bytes: some Collection<UInt8>) throws(GatewayError) -> JSONObject {
        guard let json = try? JSONParser.parse(bytes), let body = json.objectValue else {
            throw .invalidRequest("The request body is not a JSON object.")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' is required.", param: "model")
        }
        guard let maxTokens = body["max_tokens"]?.intValue, maxTokens > 0 else {
            throw .invalidRequest("'max_tokens' is required and must be a positive integer.", param: "max_tokens")
        }
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            throw .invalidRequest("'messages' must be a non-empty array.", param: "messages")
        }
        var out: JSONObject = ["model": .string(model), "max_tokens": .int(maxTokens)]
        var converted: [JSONValue] = []
        if let system = body["system"], !system.isNull {
            converted.append(.object(["role": "system", "content": .string(try text(system, at: "system"))]))
        }
        for (index, message) in messages.enumerated() {
            converted += try turn(message, at: "messages[\(index)]")
        }
        out["messages"] = .array(converted)
        for (from, to) in [("temperature", "temperature"), ("top_p", "top_p"), ("stop_sequences", "stop")] {
            if let value = body[from], !value.isNull { out[to] = value }
        }
        if let tools = body["tools"]?.arrayValue, !tools.isEmpty {
            out["tools"] = .array(
                try tools.enumerated().map { index, tool throws(GatewayError) in
                    guard let name = tool["name"]?.stringValue else {
                        throw .invalidRequest("'tools[\(index)].name' is required.", param: "tools[\(index)].name")
                    }
                    var function: JSONObject = [
                        "name": .string(name), "parameters": tool["input_schema"] ?? .object(["type": "object"]),
                    ]
                    if let description = tool["description"] { function["description"] = description }
                    return .object(["type": "function", "function": .object(function)])
                })
        }
        if let choice = body["tool_choice"], !choice.isNull { out["tool_choice"] = try toolChoice(choice) }
        if body["stream"]?.boolValue == true {
            out["stream"] = true
            out["stream_options"] = .object(["include_usage": true])
        }
        if let user = body["metadata"]?["user_id"]?.stringValue { out["user"] = .string(user) }
        return out
    }

    /// One Messages turn as OpenAI messages: tool results become `tool` messages, tool uses
    /// become `tool_calls`; thinking blocks are the model's own and are not replayed.
    static func turn(_ message: JSONValue, at path: String) throws(GatewayError) -> [JSONValue] {
        guard let role = message["role"]?.stringValue, role == "user" || role == "assistant" else {
            throw .invalidRequest("'\(path).role' must be 'user' or 'assistant'.", param: "\(path).role")
        }
        guard let content = message["content"] else {
            throw .invalidRequest("'\(path).content' is required.", param: "\(path).content")
        }
        if let text = content.stringValue { return [.object(["role": .string(role), "content": .string(text)])] }
        guard let blocks = content.arrayValue else {
            throw .invalidRequest("'\(path).content' must be a string or an array of blocks.", param: "\(path).content")
        }
        var parts: [JSONValue] = []
        var toolCalls: [JSONValue] = []
        var toolResults: [JSONValue] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch block["type"]?.stringValue {
            case "text":
                parts.append(.object(["type": "text", "text": block["text"] ?? ""]))
            case "image":
                parts.append(
                    .object(["type": "image_url", "image_url": .object(["url": .string(try imageURL(block, at: blockPath))])]))
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw .invalidRequest("'\(blockPath)' needs an id and a name.", param: blockPath)
                }
                toolCalls.append(
                    .object([
                        "id": .string(id), "type": "function",
                        "function": .object([
                            "name": .string(name), "arguments": .string((block["input"] ?? .object([:])).encodedString()),
                        ]),
                    ]))
            case "tool_result":
                guard let id = block["tool_use_id"]?.stringValue else {
                    throw .invalidRequest("'\(blockPath).tool_use_id' is required.", param: "\(blockPath).tool_use_id")
                }
                let result =
                    try block["content"].map { value throws(GatewayError) in try text(value, at: "\(blockPath).content") } ?? ""
                toolResults.append(.object(["role": "tool", "tool_call_id": .string(id), "content": .string(result)]))
            case "thinking", "redacted_thinking":
                continue
            default:
                throw .invalidRequest(
                    "'\(blockPath).type' \(block["type"]?.encodedString() ?? "null") is not supported.",
                    param: "\(blockPath).type")
            }
        }
        var out = toolResults
        if !parts.isEmpty || !toolCalls.isEmpty {
            var converted: JSONObject = ["role": .string(role)]
            let texts = parts.compactMap { $0["type"] == "text" ? $0["text"]?.stringValue : nil }
            converted["content"] = texts.count == parts.count ? (texts.isEmpty ? .null : .string(texts.joined())) : .array(parts)
            if !toolCalls.isEmpty { converted["tool_calls"] = .array(toolCalls) }
            out.append(.object(converted))
        }
        return out
    }

    /// A string, or text blocks joined (system prompts and tool results take either).
    static func text(_ value: JSONValue, at path: String) throws(GatewayError) -> String {
        if let text = value.stringValue { return text }
        guard let blocks = value.arrayValue else {
            throw .invalidRequest("'\(path)' must be a string or an array of text blocks.", param: path)
        }
        return blocks.compactMap { $0["type"] == "text" ? $0["text"]?.stringValue : nil }.joined(separator: "\n")
    }

    static func imageURL(_ block: JSONValue, at path: String) throws(GatewayError) -> String {
        let source = block["source"]
        switch source?["type"]?.stringValue {
        case "base64":
            guard let media = source?["media_type"]?.stringValue, let data = source?["data"]?.stringValue else {
                throw .invalidRequest("'\(path).source' needs media_type and data.", param: "\(path).source")
            }
            return "data:\(media);base64,\(data)"
        case "url":
            guard let url = source?["url"]?.stringValue else {
                throw .invalidRequest("'\(path).source.url' is required.", param: "\(path).source.url")
            }
            return url
        default:
            throw .invalidRequest("'\(path).source.type' must be 'base64' or 'url'.", param: "\(path).source.type")
        }
    }

    static func toolChoice(_ choice: JSONValue) throws(GatewayError) -> JSONValue {
        switch choice["type"]?.stringValue {
        case "auto": return "auto"
        case "any": return "required"
        case "none": return "none"
        case "tool":
            guard let name = choice["name"]?.stringValue else {
                throw .invalidRequest("'tool_choice.name' is required for type 'tool'.", param: "tool_choice.name")
            }
            return .object(["type": "function", "function": .object(["name": .string(name)])])
        default:
            throw .invalidRequest("'tool_choice.type' must be auto, any, tool or none.", param: "tool_choice.type")
        }
    }

    /// An OpenAI `chat.completion` as a Messages answer.
    static func message(fromCompletion completion: JSONValue) -> JSONValue {
        let choice = completion["choices"]?.arrayValue?.first
        var content: [JSONValue] = []
        if let text = choice?["message"]?["content"]?.stringValue, !text.isEmpty {
            content.append(.object(["type": "text", "text": .string(text)]))
        }
        for call in choice?["message"]?["tool_calls"]?.arrayValue ?? [] {
            content.append(
                toolUse(id: call["id"], name: call["function"]?["name"], arguments: call["function"]?["arguments"]?.stringValue))
        }
        return .object([
            "id": completion["id"] ?? .null, "type": "message", "role": "assistant", "model": completion["model"] ?? .null,
            "content": .array(content), "stop_reason": .string(stopReason(choice?["finish_reason"]?.stringValue)),
            "stop_sequence": .null, "usage": usage(completion["usage"]),
        ])
    }

    static func toolUse(id: JSONValue?, name: JSONValue?, arguments: String?) -> JSONValue {
        let input = arguments.flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .object([:])
        return .object(["type": "tool_use", "id": id ?? .null, "name": name ?? .null, "input": input])
    }

    static func stopReason(_ finish: String?) -> String {
        switch finish {
        case "length": "max_tokens"
        case "tool_calls", "function_call": "tool_use"
        case "content_filter": "refusal"
        default: "end_turn"
        }
    }

    /// OpenAI usage in Anthropic's terms: input leaves out cache reads, which are counted apart.
    static func usage(_ usage: JSONValue?) -> JSONValue {
        let prompt = usage?["prompt_tokens"]?.tokenCount ?? 0
        let cached = usage?["prompt_tokens_details"]?["cached_tokens"]?.tokenCount ?? 0
        return .object([
            "input_tokens": .int(max(0, prompt - cached)), "output_tokens": .int(usage?["completion_tokens"]?.tokenCount ?? 0),
            "cache_read_input_tokens": .int(cached), "cache_creation_input_tokens": .int(0),
        ])
    }

    /// An OpenAI-shaped error body as Anthropic's `{"type":"error","error":{…}}`.
    static func error(fromOpenAI body: JSONValue?, status: Int) -> JSONValue {
        let error = body?["error"]
        return .object([
            "type": "error",
            "error": .object([
                "type": .string(errorType(error?["type"]?.stringValue, code: error?["code"]?.stringValue, status: status)),
                "message": error?["message"] ?? .string("The gateway answered HTTP \(status)."),
            ]),
        ])
    }

    static func errorType(_ type: String?, code: String?, status: Int) -> String {
        switch (type, status) {
        case ("authentication_error", _), (_, 401): "authentication_error"
        case ("permission_denied", _), (_, 403): "permission_error"
        case (_, 404): "not_found_error"
        case (_, 413): "request_too_large"
        case (_, 429): "rate_limit_error"
        case (_, 503), (_, 529): "overloaded_error"
        case (_, 408), (_, 504): "timeout_error"
        case (_, 400..<500): "invalid_request_error"
        default: code == "overloaded" ? "overloaded_error" : "api_error"
        }
    }
}
