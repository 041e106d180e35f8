import Telemetry

/// OpenAI chat request → Anthropic Messages request. https://docs.anthropic.com/en/api/messages
enum AnthropicRequest {
    /// The tool a JSON-mode request is answered through: Messages has no `response_format`, so
    /// the schema becomes a forced tool whose input is handed back as the message content.
    static let jsonTool = "json_response"

    static func translate(_ body: JSONObject, deployment: DeploymentConfig) throws(GatewayError) -> JSONObject {
        let body = try AnthropicAdapter.unsupported.apply(to: body, dropping: deployment.dropParams)
        let model = deployment.model
        var out: JSONObject = ["model": .string(model)]
        let limit = (body["max_completion_tokens"] ?? body["max_tokens"])?.intValue
        out["max_tokens"] = .int(limit ?? deployment.maxOutputTokens ?? AnthropicAdapter.defaultMaxTokens)
        let (system, messages) = try conversation(body["messages"]?.arrayValue ?? [])
        if !system.isEmpty { out["system"] = .array(system) }
        out["messages"] = .array(messages)
        if let temperature = body["temperature"]?.doubleValue {
            guard temperature <= 1 else {
                throw .invalidRequest("'temperature' must be between 0 and 1 for Anthropic models.", param: "temperature")
            }
            out["temperature"] = .double(temperature)
        }
        if let topP = body["top_p"] { out["top_p"] = topP }
        if let stop = body["stop"], !stop.isNull {
            out["stop_sequences"] = stop.stringValue.map { .array([.string($0)]) } ?? stop
        }
        if let tools = body["tools"]?.arrayValue, !tools.isEmpty {
            out["tools"] = .array(
                try tools.enumerated().map { index, tool throws(GatewayError) in
                    guard let function = tool["function"], let name = function["name"]?.stringValue else {
                        throw .invalidRequest(
                            "'tools[\(index)].function.name' is required.", param: "tools[\(index)].function.name")
                    }
                    var converted: JSONObject = [
                        "name": .string(name),
                        "input_schema": function["parameters"] ?? .object(["type": "object", "properties": .object([:])]),
                    ]
                    if let description = function["description"] { converted["description"] = description }
                    return .object(converted)
                })
        }
        if let choice = try toolChoice(body["tool_choice"], parallel: body["parallel_tool_calls"]?.boolValue) {
            out["tool_choice"] = choice
        }
        if let schema = try jsonSchema(body["response_format"]) {
            var tools = out["tools"]?.arrayValue ?? []
            tools.append(
                .object([
                    "name": .string(jsonTool), "description": "Respond with a JSON object.", "input_schema": schema,
                ]))
            out["tools"] = .array(tools)
            out["tool_choice"] = .object(["type": "tool", "name": .string(jsonTool)])
        }
        if body["stream"]?.boolValue == true { out["stream"] = true }
        if let user = body["user"]?.stringValue { out["metadata"] = .object(["user_id": .string(user)]) }
        return out
    }

    /// The schema a `response_format` asks for, or nil for plain text.
    static func jsonSchema(_ format: JSONValue?) throws(GatewayError) -> JSONValue? {
        switch format?["type"]?.stringValue {
        case nil, "text": return nil
        case "json_object": return .object(["type": "object"])
        case "json_schema":
            guard let schema = format?["json_schema"]?["schema"], schema.objectValue != nil else {
                throw .invalidRequest("'response_format.json_schema.schema' must be an object.", param: "response_format")
            }
            return schema
        case let other?:
            throw .invalidRequest("'response_format' type '\(other)' is not supported.", param: "response_format")
        }
    }

    /// System text pulled out; tool results folded into user turns; same-role turns merged.
    static func conversation(_ messages: [JSONValue]) throws(GatewayError) -> (system: [JSONValue], messages: [JSONValue]) {
        var system: [JSONValue] = []
        var turns = AlternatingTurns()
        for (i, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                system += try contentBlocks(message["content"], path: "messages[\(i)].content").filter { $0["type"] == "text" }
            case "user":
                turns.append("user", try contentBlocks(message["content"], path: "messages[\(i)].content"))
            case "assistant":
                var blocks = try contentBlocks(message["content"], path: "messages[\(i)].content")
                for (j, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
                    let path = "messages[\(i)].tool_calls[\(j)].function.arguments"
                    let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
                    guard let input = try? JSONParser.parse(arguments), input.objectValue != nil else {
                        throw .invalidRequest("'\(path)' is not a JSON object.", param: path)
                    }
                    blocks.append(
                        .object([
                            "type": "tool_use", "id": call["id"] ?? .null, "name": call["function"]?["name"] ?? .null,
                            "input": input,
                        ]))
                }
                turns.append("assistant", blocks)
            case "tool":
                turns.append(
                    "user",
                    [
                        .object([
                            "type": "tool_result", "tool_use_id": message["tool_call_id"] ?? .null,
                            "content": .string(OpenAIContent.toolResultText(message["content"])),
                        ])
                    ])
            default:
                throw .invalidRequest("'messages[\(i)].role' \(role) is not supported.", param: "messages[\(i)].role")
            }
        }
        turns.openWithUser(.object(["type": "text", "text": "."]))
        return (system, turns.json(itemsKey: "content"))
    }

    /// OpenAI content (string or parts) as Anthropic blocks.
    static func contentBlocks(_ content: JSONValue?, path: String) throws(GatewayError) -> [JSONValue] {
        try OpenAIContent.blocks(content, path: path, text: { .object(["type": "text", "text": .string($0)]) }) {
            type, part, partPath throws(GatewayError) in
            guard type == "image_url" else {
                throw .invalidRequest(
                    "'\(partPath).type' \(type ?? "?") is not supported for Anthropic models.", param: "\(partPath).type")
            }
            let url = try OpenAIContent.imageURL(part, path: partPath)
            return .object(["type": "image", "source": try imageSource(url, path: "\(partPath).image_url.url")])
        }
    }

    /// `data:<media>;base64,<data>` becomes a base64 source, `http(s)://` a URL source.
    static func imageSource(_ url: String, path: String) throws(GatewayError) -> JSONValue {
        if url.hasPrefix("http://") || url.hasPrefix("https://") { return .object(["type": "url", "url": .string(url)]) }
        guard let dataURL = DataURL(url) else {
            throw .invalidRequest("'\(path)' must be an http(s) URL or a base64 data URL.", param: path)
        }
        return .object([
            "type": "base64", "media_type": .string(String(dataURL.mediaType)), "data": .string(String(dataURL.data)),
        ])
    }

    static func toolChoice(_ choice: JSONValue?, parallel: Bool?) throws(GatewayError) -> JSONValue? {
        var result: JSONObject
        switch choice {
        case nil, .null?: result = ["type": "auto"]
        case .string("auto")?: result = ["type": "auto"]
        case .string("required")?: result = ["type": "any"]
        case .string("none")?: result = ["type": "none"]
        case let value?:
            guard let name = value["function"]?["name"]?.stringValue else {
                throw .invalidRequest("'tool_choice' must be auto, required, none or a function.", param: "tool_choice")
            }
            result = ["type": "tool", "name": .string(name)]
        }
        if parallel == false { result["disable_parallel_tool_use"] = true }
        // Without tools or an explicit choice there is nothing to say.
        return choice == nil && parallel == nil ? nil : .object(result)
    }
}
