import Telemetry

/// OpenAI request → Cohere v2 `/v2/chat` and `/v2/embed` requests.
/// https://docs.cohere.com/reference/chat
enum CohereRequest {
    /// OpenAI parameters with no Cohere equivalent, or whose answer the gateway does not translate
    /// back (Cohere's logprobs have another shape): refused by name unless `drop_params`.
    static let unsupported = UnsupportedParams(provider: "Cohere", names: UnsupportedParams.untranslatedAnswers)
    /// Cohere's own fields with no OpenAI analogue, passed through when a client sends them.
    static let nativeFields = ["safety_mode", "documents", "citation_options", "strict_tools", "thinking", "k", "priority"]

    static func chat(_ body: JSONObject, model: String, dropParams: Bool) throws(GatewayError) -> JSONObject {
        let body = try unsupported.apply(to: body, dropping: dropParams)
        var out: JSONObject = ["model": .string(model)]
        out["messages"] = .array(try messages(body["messages"]?.arrayValue ?? []))
        var tools = try RequestTranslation.tools(body)
        switch body["tool_choice"] {
        case nil, .null?, .string("auto")?:
            break
        case .string("required")?:
            out["tool_choice"] = "REQUIRED"
        case .string("none")?:
            out["tool_choice"] = "NONE"
        case let choice?:
            // Cohere cannot name a tool: offer only that one and require a call.
            guard let name = choice["function"]?["name"]?.stringValue else {
                throw .invalidRequest("'tool_choice' must be auto, required, none or a function.", param: "tool_choice")
            }
            tools = tools?.filter { $0["function"]?["name"]?.stringValue == name }
            guard tools?.isEmpty == false else {
                throw .invalidRequest("'tool_choice' names '\(name)', which is not in 'tools'.", param: "tool_choice")
            }
            out["tool_choice"] = "REQUIRED"
        }
        if let tools {
            out["tools"] = .array(tools.map(tool))
            // OpenAI marks strictness per function; Cohere has one switch for all tools.
            if tools.contains(where: { $0["function"]?["strict"] == true }) { out["strict_tools"] = true }
        }
        if let format = try responseFormat(body["response_format"]) { out["response_format"] = format }
        if let temperature = body["temperature"], !temperature.isNull { out["temperature"] = temperature }
        if let topP = body["top_p"], !topP.isNull { out["p"] = topP }
        if let topK = body["top_k"], !topK.isNull { out["k"] = topK }
        if let limit = RequestTranslation.maxTokens(body) { out["max_tokens"] = .int(limit) }
        if let stop = RequestTranslation.stopSequences(body) { out["stop_sequences"] = stop }
        for field in ["seed", "frequency_penalty", "presence_penalty"] {
            if let value = body[field], !value.isNull { out[field] = value }
        }
        if let effort = body["reasoning_effort"], !effort.isNull {
            out["thinking"] = try thinking(effort)
        }
        for field in nativeFields {
            if let value = body[field] { out[field] = value }
        }
        if body["stream"]?.boolValue == true { out["stream"] = true }
        return out
    }

    /// `/v2/embed` takes texts plus the purpose they are embedded for; OpenAI has no purpose, so
    /// documents (the common case) unless the client says otherwise with Cohere's `input_type`.
    static func embed(_ request: OpenAIRequest, model: String) throws(GatewayError) -> JSONObject {
        let texts = try EmbeddingsTranslation.texts(request, provider: "Cohere")
        var out: JSONObject = [
            "model": .string(model), "texts": .array(texts.map(JSONValue.string)),
            "input_type": request.body["input_type"] ?? "search_document", "embedding_types": .array(["float"]),
        ]
        if let dimensions = request.body["dimensions"]?.intValue { out["output_dimension"] = .int(dimensions) }
        if let truncate = request.body["truncate"] { out["truncate"] = truncate }
        return out
    }

    static func messages(_ messages: [JSONValue]) throws(GatewayError) -> [JSONValue] {
        var out: [JSONValue] = []
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                let text = try RequestTranslation.text(message["content"], path: "\(path).content", provider: "Cohere")
                out.append(.object(["role": "system", "content": .string(text)]))
            case "user":
                out.append(.object(["role": "user", "content": try userContent(message["content"], path: "\(path).content")]))
            case "assistant":
                out.append(.object(try assistant(message, path: path)))
            case "tool":
                guard let id = message["tool_call_id"]?.stringValue else {
                    throw .invalidRequest("'\(path).tool_call_id' is required.", param: "\(path).tool_call_id")
                }
                let text = try RequestTranslation.text(message["content"], path: "\(path).content", provider: "Cohere")
                out.append(.object(["role": "tool", "tool_call_id": .string(id), "content": .string(text)]))
            default:
                throw .invalidRequest("'\(path).role' \(role) is not supported by Cohere models.", param: "\(path).role")
            }
        }
        return out
    }

    /// Text and `image_url` parts keep OpenAI's shape; Cohere reads both (images on vision models).
    static func userContent(_ content: JSONValue?, path: String) throws(GatewayError) -> JSONValue {
        guard let parts = content?.arrayValue else {
            return .string(try RequestTranslation.text(content, path: path, provider: "Cohere"))
        }
        var out: [JSONValue] = []
        for (k, part) in parts.enumerated() {
            switch part["type"]?.stringValue {
            case "text":
                guard let text = part["text"]?.stringValue else {
                    throw .invalidRequest("'\(path)[\(k)].text' must be a string.", param: "\(path)[\(k)].text")
                }
                out.append(.object(["type": "text", "text": .string(text)]))
            case "image_url":
                let url = try OpenAIContent.imageURL(part, path: "\(path)[\(k)]")
                out.append(.object(["type": "image_url", "image_url": .object(["url": .string(url)])]))
            default:
                let type = part["type"]?.stringValue ?? "?"
                throw .invalidRequest(
                    "'\(path)[\(k)].type' \(type) is not supported by Cohere models.", param: "\(path)[\(k)].type")
            }
        }
        return .array(out)
    }

    /// Text that comes with tool calls is the turn's `tool_plan`, which is where Cohere put it
    /// when it answered (the gateway returned it as `content`).
    static func assistant(_ message: JSONValue, path: String) throws(GatewayError) -> JSONObject {
        let text = try RequestTranslation.text(message["content"], path: "\(path).content", provider: "Cohere")
        let calls = message["tool_calls"]?.arrayValue ?? []
        guard !calls.isEmpty else { return ["role": "assistant", "content": .string(text)] }
        var out: JSONObject = ["role": "assistant"]
        if !text.isEmpty { out["tool_plan"] = .string(text) }
        var converted: [JSONValue] = []
        for (j, call) in calls.enumerated() {
            let callPath = "\(path).tool_calls[\(j)]"
            guard let id = call["id"]?.stringValue else {
                throw .invalidRequest("'\(callPath).id' is required.", param: "\(callPath).id")
            }
            let (name, arguments) = try RequestTranslation.toolCall(call, path: callPath)
            converted.append(
                .object([
                    "id": .string(id), "type": "function",
                    "function": .object([
                        "name": .string(name), "arguments": .string(JSONValue.object(arguments).encodedString()),
                    ]),
                ]))
        }
        out["tool_calls"] = .array(converted)
        return out
    }

    /// OpenAI's envelope, which Cohere shares, keeping only the members Cohere defines.
    static func tool(_ tool: JSONValue) -> JSONValue {
        var function: JSONObject = [:]
        for field in ["name", "description", "parameters"] {
            if let value = tool["function"]?[field], !value.isNull { function[field] = value }
        }
        return .object(["type": "function", "function": .object(function)])
    }

    /// `json_object` as is; `json_schema` as a JSON object constrained by the schema.
    static func responseFormat(_ format: JSONValue?) throws(GatewayError) -> JSONValue? {
        switch try ResponseFormat.parse(format) {
        case nil: nil
        case .jsonObject?: .object(["type": "json_object"])
        case .jsonSchema(let schema)?: .object(["type": "json_object", "json_schema": schema])
        }
    }

    /// `reasoning_effort` as a thinking budget (LiteLLM's budgets for the same words).
    static func thinking(_ effort: JSONValue) throws(GatewayError) -> JSONValue {
        switch try ReasoningEffort.parse(effort) {
        case .off: .object(["type": "disabled"])
        case .minimal, .low: .object(["type": "enabled", "token_budget": .int(1024)])
        case .medium: .object(["type": "enabled", "token_budget": .int(2048)])
        case .high: .object(["type": "enabled", "token_budget": .int(4096)])
        }
    }
}
