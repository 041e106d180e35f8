import Telemetry

/// OpenAI chat request → Bedrock Converse request
/// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html). The same body serves
/// `converse` and `converse-stream`: streaming is chosen by the URL.
enum BedrockRequest {
    /// OpenAI parameters Converse has no field for: refused by name, or dropped with `drop_params`.
    static let unsupported = [
        "logprobs", "top_logprobs", "logit_bias", "seed", "presence_penalty", "frequency_penalty", "reasoning_effort",
    ]
    static let imageFormats = [
        "image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp",
    ]

    static func translate(_ body: JSONObject, dropParams: Bool) throws(GatewayError) -> JSONObject {
        if !dropParams {
            for field in unsupported where body[field] != nil && body[field] != .null {
                throw .invalidRequest(
                    "'\(field)' is not supported by Bedrock's Converse API (set drop_params to drop it).", param: field)
            }
            if let n = body["n"]?.intValue, n > 1 {
                throw .invalidRequest("'n' greater than 1 is not supported by Bedrock's Converse API.", param: "n")
            }
        }
        var out = JSONObject()
        let conversation = try Conversation(body["messages"]?.arrayValue ?? [])
        if !conversation.system.isEmpty { out["system"] = .array(conversation.system) }
        out["messages"] = .array(conversation.messages)
        if let inference = try inferenceConfig(body) { out["inferenceConfig"] = .object(inference) }
        if let tools = try toolConfig(body, history: conversation) { out["toolConfig"] = .object(tools) }
        if let output = try outputConfig(body["response_format"], dropParams: dropParams) { out["outputConfig"] = output }
        return out
    }

    static func inferenceConfig(_ body: JSONObject) throws(GatewayError) -> JSONObject? {
        var config = JSONObject()
        if let limit = (body["max_completion_tokens"] ?? body["max_tokens"])?.intValue { config["maxTokens"] = .int(limit) }
        for (field, name) in [("temperature", "temperature"), ("top_p", "topP")] {
            guard let value = body[field]?.doubleValue else { continue }
            guard (0...1).contains(value) else {
                throw .invalidRequest("'\(field)' must be between 0 and 1 for Bedrock models.", param: field)
            }
            config[name] = .double(value)
        }
        if let stop = body["stop"], !stop.isNull {
            config["stopSequences"] = stop.stringValue.map { .array([.string($0)]) } ?? stop
        }
        return config.isEmpty ? nil : config
    }

    /// `tools` as `toolConfig`. There is no "none" choice: the tools are dropped instead, unless
    /// the history holds tool blocks, which Bedrock refuses without a `toolConfig`; for the same
    /// reason tools named in the history are declared when the request has none.
    static func toolConfig(_ body: JSONObject, history: Conversation) throws(GatewayError) -> JSONObject? {
        var specs: [JSONValue] = []
        for (index, tool) in (body["tools"]?.arrayValue ?? []).enumerated() {
            guard let function = tool["function"], let name = function["name"]?.stringValue else {
                let path = "tools[\(index)].function.name"
                throw .invalidRequest("'\(path)' is required.", param: path)
            }
            var spec: JSONObject = ["name": .string(name)]
            if let description = function["description"]?.stringValue { spec["description"] = .string(description) }
            let schema = function["parameters"] ?? .object(["type": "object", "properties": .object([:])])
            spec["inputSchema"] = .object(["json": schema])
            specs.append(.object(["toolSpec": .object(spec)]))
        }
        let choice = body["tool_choice"]
        if choice == .string("none") && !history.hasToolBlocks { return nil }
        if specs.isEmpty {
            specs = history.toolNames.map { name -> JSONValue in
                .object([
                    "toolSpec": .object([
                        "name": .string(name), "inputSchema": .object(["json": .object(["type": "object"])]),
                    ])
                ])
            }
            if specs.isEmpty { return nil }
        }
        var config: JSONObject = ["tools": .array(specs)]
        switch choice {
        case nil, .null?, .string("none")?: break
        case .string("auto")?: config["toolChoice"] = .object(["auto": .object([:])])
        case .string("required")?: config["toolChoice"] = .object(["any": .object([:])])
        case let value?:
            guard let name = value["function"]?["name"]?.stringValue else {
                throw .invalidRequest("'tool_choice' must be auto, required, none or a function.", param: "tool_choice")
            }
            config["toolChoice"] = .object(["tool": .object(["name": .string(name)])])
        }
        return config
    }

    /// `json_schema` becomes `outputConfig.textFormat`, whose schema is a JSON *string*.
    /// `json_object` has no Converse switch.
    static func outputConfig(_ format: JSONValue?, dropParams: Bool) throws(GatewayError) -> JSONValue? {
        switch format?["type"]?.stringValue {
        case nil, "text"?:
            return nil
        case "json_schema"?:
            guard let schema = format?["json_schema"]?["schema"], schema.objectValue != nil else {
                throw .invalidRequest(
                    "'response_format.json_schema.schema' must be an object.", param: "response_format.json_schema.schema")
            }
            var jsonSchema: JSONObject = ["schema": .string(schema.encodedString())]
            if let name = format?["json_schema"]?["name"]?.stringValue { jsonSchema["name"] = .string(name) }
            return .object([
                "textFormat": .object([
                    "type": "json_schema", "structure": .object(["jsonSchema": .object(jsonSchema)]),
                ])
            ])
        case let other?:
            if dropParams { return nil }
            throw .invalidRequest(
                "'response_format' \(other) is not supported by Bedrock's Converse API; use json_schema.",
                param: "response_format")
        }
    }

    /// The OpenAI messages as Converse turns: system text pulled out, tool results folded into
    /// user turns, consecutive same-role turns merged (Converse wants strict alternation,
    /// starting with the user).
    struct Conversation {
        var system: [JSONValue] = []
        var messages: [JSONValue] = []
        var toolNames: [String] = []
        var hasToolBlocks = false

        init(_ input: [JSONValue]) throws(GatewayError) {
            var turns = AlternatingTurns()
            for (i, message) in input.enumerated() {
                let role = message["role"]?.stringValue ?? ""
                let path = "messages[\(i)].content"
                switch role {
                case "system", "developer":
                    system += try BedrockRequest.contentBlocks(message["content"], path: path, allowImages: false)
                case "user":
                    turns.append("user", try BedrockRequest.contentBlocks(message["content"], path: path, allowImages: true))
                case "assistant":
                    var blocks = try BedrockRequest.contentBlocks(message["content"], path: path, allowImages: false)
                    for (j, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
                        blocks.append(try toolUse(call, path: "messages[\(i)].tool_calls[\(j)]"))
                    }
                    turns.append("assistant", blocks)
                case "tool":
                    hasToolBlocks = true
                    turns.append("user", [try BedrockRequest.toolResult(message, path: "messages[\(i)]")])
                default:
                    throw .invalidRequest("'messages[\(i)].role' \(role) is not supported.", param: "messages[\(i)].role")
                }
            }
            turns.openWithUser(.object(["text": "."]))
            messages = turns.json(itemsKey: "content")
        }

        private mutating func toolUse(_ call: JSONValue, path: String) throws(GatewayError) -> JSONValue {
            let argumentsPath = "\(path).function.arguments"
            guard let name = call["function"]?["name"]?.stringValue else {
                throw .invalidRequest("'\(path).function.name' is required.", param: "\(path).function.name")
            }
            guard let id = call["id"]?.stringValue, !id.isEmpty else {
                throw .invalidRequest("'\(path).id' is required.", param: "\(path).id")
            }
            let arguments = call["function"]?["arguments"]?.stringValue ?? "{}"
            guard let input = try? JSONParser.parse(arguments), input.objectValue != nil else {
                throw .invalidRequest("'\(argumentsPath)' is not a JSON object.", param: argumentsPath)
            }
            hasToolBlocks = true
            if !toolNames.contains(name) { toolNames.append(name) }
            return .object(["toolUse": .object(["toolUseId": .string(id), "name": .string(name), "input": input])])
        }
    }

    /// A `tool` message as a `toolResult` block: a JSON object result goes as `json`, anything
    /// else as text (Converse takes only objects in `json`).
    static func toolResult(_ message: JSONValue, path: String) throws(GatewayError) -> JSONValue {
        guard let id = message["tool_call_id"]?.stringValue, !id.isEmpty else {
            throw .invalidRequest("'\(path).tool_call_id' is required.", param: "\(path).tool_call_id")
        }
        let text = OpenAIContent.toolResultText(message["content"])
        let content: JSONValue
        if let json = try? JSONParser.parse(text), json.objectValue != nil {
            content = .object(["json": json])
        } else {
            content = .object(["text": .string(text)])
        }
        return .object(["toolResult": .object(["toolUseId": .string(id), "content": .array([content])])])
    }

    /// OpenAI content (a string or parts) as Converse blocks.
    static func contentBlocks(_ content: JSONValue?, path: String, allowImages: Bool) throws(GatewayError) -> [JSONValue] {
        try OpenAIContent.blocks(content, path: path, text: { .object(["text": .string($0)]) }) {
            type, part, partPath throws(GatewayError) in
            guard type == "image_url" && allowImages else {
                throw .invalidRequest(
                    "'\(partPath).type' \(type ?? "?") is not supported here for Bedrock models.", param: "\(partPath).type")
            }
            let urlPath = "\(partPath).image_url.url"
            return try image(try OpenAIContent.imageURL(part, path: partPath), path: urlPath)
        }
    }

    /// A base64 data URL as an image block. Converse takes no remote URLs, and the gateway does
    /// not fetch them on the client's behalf.
    static func image(_ url: String, path: String) throws(GatewayError) -> JSONValue {
        guard let dataURL = DataURL(url) else {
            throw .invalidRequest(
                "'\(path)' must be a base64 data URL for Bedrock models (remote URLs are not fetched).", param: path)
        }
        let mediaType = dataURL.mediaType.lowercased()
        guard let format = imageFormats[mediaType] else {
            throw .invalidRequest(
                "'\(path)' has media type '\(mediaType)'; Bedrock takes png, jpeg, gif or webp.", param: path)
        }
        let data = String(dataURL.data)
        return .object(["image": .object(["format": .string(format), "source": .object(["bytes": .string(data)])])])
    }
}
