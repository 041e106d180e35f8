import Telemetry

/// OpenAI request → Ollama's native `/api/chat` and `/api/embed` requests.
/// https://github.com/ollama/ollama/blob/main/docs/api.md
enum OllamaRequest {
    /// OpenAI parameters with no `/api/chat` equivalent, or whose answer the gateway does not
    /// translate back: refused by name unless `drop_params`.
    static let unsupported = UnsupportedParams(provider: "Ollama", names: UnsupportedParams.untranslatedAnswers)
    /// Ollama's own top-level fields, passed through when a client sends them.
    static let nativeFields = ["keep_alive", "think"]
    /// OpenAI sampling fields that Ollama reads from `options` under the same name.
    static let sameNameOptions = ["temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty"]

    static func chat(_ body: JSONObject, model: String, stream: Bool, dropParams: Bool) throws(GatewayError) -> JSONObject {
        let body = try unsupported.apply(to: body, dropping: dropParams)
        var out: JSONObject = ["model": .string(model)]
        out["messages"] = .array(try messages(body["messages"]?.arrayValue ?? []))
        let tools = try RequestTranslation.tools(body)
        switch body["tool_choice"] {
        case nil, .null?, .string("auto")?:
            if let tools { out["tools"] = .array(tools) }
        case .string("none")?:
            break  // Ollama has no switch for it; without tools it cannot call one.
        case let choice?:
            // `required` or a named tool: Ollama cannot enforce either.
            guard dropParams else {
                throw .invalidRequest(
                    "'tool_choice' \(choice.stringValue ?? "with a named function") is not supported by Ollama models; set drop_params to ignore it.",
                    param: "tool_choice")
            }
            if let tools { out["tools"] = .array(tools) }
        }
        if let format = try format(body["response_format"]) { out["format"] = format }
        // Native options a client sent are kept; the OpenAI fields, when given, win.
        var options = body["options"]?.objectValue ?? JSONObject()
        for field in sameNameOptions {
            if let value = body[field], !value.isNull { options[field] = value }
        }
        if let limit = RequestTranslation.maxTokens(body) { options["num_predict"] = .int(limit) }
        if let stop = RequestTranslation.stopSequences(body) { options["stop"] = stop }
        if !options.isEmpty { out["options"] = .object(options) }
        if let effort = body["reasoning_effort"], !effort.isNull { out["think"] = try think(effort) }
        for field in nativeFields {
            if let value = body[field] { out[field] = value }
        }
        // Ollama streams unless told not to.
        out["stream"] = .bool(stream)
        return out
    }

    static func embed(_ request: OpenAIRequest, model: String) throws(GatewayError) -> JSONObject {
        let texts = try EmbeddingsTranslation.texts(request, provider: "Ollama")
        var out: JSONObject = ["model": .string(model), "input": .array(texts.map(JSONValue.string))]
        if let dimensions = request.body["dimensions"]?.intValue { out["dimensions"] = .int(dimensions) }
        for field in ["truncate", "keep_alive", "options"] {
            if let value = request.body[field] { out[field] = value }
        }
        return out
    }

    /// Tool results name their function (`tool_name`), which OpenAI leaves to the `tool_call_id`:
    /// the name is looked up among the calls earlier in the conversation.
    static func messages(_ messages: [JSONValue]) throws(GatewayError) -> [JSONValue] {
        var out: [JSONValue] = []
        var toolNames: [String: String] = [:]
        for (i, message) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                let text = try RequestTranslation.text(message["content"], path: "\(path).content", provider: "Ollama")
                out.append(.object(["role": "system", "content": .string(text)]))
            case "user":
                out.append(.object(try user(message["content"], path: "\(path).content")))
            case "assistant":
                let text = try RequestTranslation.text(message["content"], path: "\(path).content", provider: "Ollama")
                var converted: JSONObject = ["role": "assistant", "content": .string(text)]
                var calls: [JSONValue] = []
                for (j, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
                    let (name, arguments) = try RequestTranslation.toolCall(call, path: "\(path).tool_calls[\(j)]")
                    if let id = call["id"]?.stringValue { toolNames[id] = name }
                    calls.append(.object(["function": .object(["name": .string(name), "arguments": .object(arguments)])]))
                }
                if !calls.isEmpty { converted["tool_calls"] = .array(calls) }
                out.append(.object(converted))
            case "tool":
                let text = try RequestTranslation.text(message["content"], path: "\(path).content", provider: "Ollama")
                var converted: JSONObject = ["role": "tool", "content": .string(text)]
                if let name = message["tool_call_id"]?.stringValue.flatMap({ toolNames[$0] }) {
                    converted["tool_name"] = .string(name)
                }
                out.append(.object(converted))
            default:
                throw .invalidRequest("'\(path).role' \(role) is not supported by Ollama models.", param: "\(path).role")
            }
        }
        return out
    }

    /// Ollama's content is one string; images travel beside it as raw base64.
    static func user(_ content: JSONValue?, path: String) throws(GatewayError) -> JSONObject {
        guard let parts = content?.arrayValue else {
            return ["role": "user", "content": .string(try RequestTranslation.text(content, path: path, provider: "Ollama"))]
        }
        var texts: [String] = []
        var images: [JSONValue] = []
        for (k, part) in parts.enumerated() {
            switch part["type"]?.stringValue {
            case "text":
                guard let text = part["text"]?.stringValue else {
                    throw .invalidRequest("'\(path)[\(k)].text' must be a string.", param: "\(path)[\(k)].text")
                }
                texts.append(text)
            case "image_url":
                let urlPath = "\(path)[\(k)].image_url.url"
                let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                images.append(.string(try base64Image(url, path: urlPath)))
            default:
                let type = part["type"]?.stringValue ?? "?"
                throw .invalidRequest(
                    "'\(path)[\(k)].type' \(type) is not supported by Ollama models.", param: "\(path)[\(k)].type")
            }
        }
        var out: JSONObject = ["role": "user", "content": .string(texts.joined(separator: "\n"))]
        if !images.isEmpty { out["images"] = .array(images) }
        return out
    }

    /// The data of a `data:…;base64,` URL. The gateway does not fetch http(s) images for Ollama:
    /// fetching client-chosen URLs from inside the network is a request-forgery risk.
    static func base64Image(_ url: String, path: String) throws(GatewayError) -> String {
        guard let dataURL = DataURL(url), !dataURL.data.isEmpty else {
            throw .invalidRequest("'\(path)' must be a base64 data URL for Ollama models.", param: path)
        }
        return String(dataURL.data)
    }

    /// `json_object` is Ollama's `"json"`; a JSON schema is given as the format itself.
    static func format(_ format: JSONValue?) throws(GatewayError) -> JSONValue? {
        switch try ResponseFormat.parse(format) {
        case nil: nil
        case .jsonObject?: "json"
        case .jsonSchema(let schema)?: schema
        }
    }

    static func think(_ effort: JSONValue) throws(GatewayError) -> JSONValue {
        switch try ReasoningEffort.parse(effort) {
        case .off: false
        case .minimal, .low: "low"
        case .medium: "medium"
        case .high: "high"
        }
    }
}
