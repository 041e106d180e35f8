import Telemetry

/// OpenAI chat request → Gemini `generateContent` body (https://ai.google.dev/api/generate-content). The same body
/// serves AI Studio and Vertex AI; wire names are camelCase.
enum GeminiRequest {
    /// OpenAI parameters Gemini has no equivalent for: refused by name unless `drop_params` is set,
    /// so a client never believes a setting took effect when it did not.
    static let unsupported = [
        "logit_bias", "prediction", "audio", "web_search_options", "verbosity", "functions", "function_call",
    ]

    /// `reasoning_effort` as a thinking budget in tokens (LiteLLM's values; `none` turns thinking off).
    static let thinkingBudgets = [
        "none": 0, "minimal": 128, "low": 1024, "medium": 2048, "high": 4096, "xhigh": 24576, "max": 24576,
    ]

    /// `model` is the Gemini model id: Gemini 3 models need thought signatures on function calls.
    static func translate(_ original: JSONObject, model: String, dropParams: Bool) throws(GatewayError) -> JSONObject {
        let body = try UnsupportedParams(provider: "Gemini", names: unsupported, allowsSeveralChoices: true)
            .apply(to: original, dropping: dropParams)
        try refuseUnenforceable(body, dropParams: dropParams)
        var out = JSONObject()
        let (system, contents) = try conversation(
            body["messages"]?.arrayValue ?? [], requiresSignatures: model.hasPrefix("gemini-3"))
        if !system.isEmpty { out["systemInstruction"] = .object(["parts": .array(system)]) }
        out["contents"] = .array(contents)
        if let tools = body["tools"]?.arrayValue, !tools.isEmpty {
            out["tools"] = .array([.object(["functionDeclarations": .array(try functionDeclarations(tools))])])
        }
        if let choice = body["tool_choice"], !choice.isNull {
            out["toolConfig"] = .object(["functionCallingConfig": try functionCallingConfig(choice)])
        }
        if let settings = body["safety_settings"], !settings.isNull { out["safetySettings"] = settings }
        let config = try generationConfig(body)
        if !config.isEmpty { out["generationConfig"] = .object(config) }
        return out
    }

    /// Settings Gemini cannot honour, refused unless `drop_params` says to ignore them.
    private static func refuseUnenforceable(_ body: JSONObject, dropParams: Bool) throws(GatewayError) {
        guard !dropParams else { return }
        if let modalities = body["modalities"]?.arrayValue, modalities.contains(where: { $0 != "text" }) {
            throw .invalidRequest("Only the 'text' modality is supported for Gemini models.", param: "modalities")
        }
    }

    // MARK: Messages

    /// System text pulled out into `systemInstruction`; `assistant` becomes `model`; tool results
    /// become `functionResponse` parts of a user turn; consecutive same-role turns are merged.
    static func conversation(_ messages: [JSONValue], requiresSignatures: Bool = false) throws(GatewayError)
        -> (system: [JSONValue], contents: [JSONValue])
    {
        var system: [JSONValue] = []
        var turns = AlternatingTurns()
        // Gemini needs the function name on a result; OpenAI results only carry the call's id.
        var toolNames: [String: String] = [:]
        for (i, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            let path = "messages[\(i)].content"
            switch role {
            case "system", "developer":
                let parts = try contentParts(message["content"], path: path)
                if let k = parts.firstIndex(where: { $0["text"] == nil }) {
                    throw .invalidRequest("'\(path)[\(k)]': system messages may only contain text.", param: "\(path)[\(k)]")
                }
                system += parts
            case "user":
                turns.append("user", try contentParts(message["content"], path: path))
            case "assistant":
                var parts = try contentParts(message["content"], path: path)
                for (j, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
                    let (name, arguments) = try RequestTranslation.toolCall(call, path: "messages[\(i)].tool_calls[\(j)]")
                    let id = call["id"]?.stringValue
                    if let id { toolNames[id] = name }
                    var part: JSONObject = ["functionCall": .object(["name": .string(name), "args": .object(arguments)])]
                    // Gemini 3 needs a signature on the first call of a turn; without the original, Google's stand-in.
                    if let signature = id.flatMap(ThoughtSignature.signature(in:)) {
                        part["thoughtSignature"] = .string(signature)
                    } else if j == 0 && requiresSignatures {
                        part["thoughtSignature"] = .string(ThoughtSignature.placeholder)
                    }
                    parts.append(.object(part))
                }
                turns.append("model", parts)
            case "tool":
                guard let id = message["tool_call_id"]?.stringValue, let name = toolNames[id] else {
                    throw .invalidRequest(
                        "'messages[\(i)].tool_call_id' does not match a tool call of an earlier assistant message.",
                        param: "messages[\(i)].tool_call_id")
                }
                let response: JSONObject = ["name": .string(name), "response": toolResponse(message["content"])]
                turns.append("user", [.object(["functionResponse": .object(response)])])
            default:
                throw .invalidRequest(
                    "'messages[\(i)].role' \(role) is not supported for Gemini models.", param: "messages[\(i)].role")
            }
        }
        if turns.isEmpty {
            // Gemini refuses a request without contents; a system-only prompt is asked as the user.
            guard !system.isEmpty else {
                throw .invalidRequest("'messages' must contain a non-empty user or assistant message.", param: "messages")
            }
            return ([], [.object(["role": "user", "parts": .array(system)])])
        }
        return (system, turns.json(itemsKey: "parts"))
    }

    /// A tool result as the JSON object Gemini requires, under Google's suggested key `output`:
    /// JSON text is passed as the value it encodes, anything else as a string.
    static func toolResponse(_ content: JSONValue?) -> JSONValue {
        let text = OpenAIContent.toolResultText(content)
        let value = (try? JSONParser.parse(text)) ?? .string(text)
        return .object(["output": value])
    }

    /// OpenAI content (a string or parts) as Gemini parts; a refusal is text too.
    static func contentParts(_ content: JSONValue?, path: String) throws(GatewayError) -> [JSONValue] {
        try OpenAIContent.blocks(content, path: path, text: { .object(["text": .string($0)]) }) {
            type, part, partPath throws(GatewayError) in
            switch type {
            case "refusal":
                guard let text = part["refusal"]?.stringValue, !text.isEmpty else { return nil }
                return .object(["text": .string(text)])
            case "image_url":
                return try media(try OpenAIContent.imageURL(part, path: partPath), path: "\(partPath).image_url.url")
            case "input_audio":
                guard let data = part["input_audio"]?["data"]?.stringValue,
                    let format = part["input_audio"]?["format"]?.stringValue
                else {
                    throw .invalidRequest(
                        "'\(partPath).input_audio' needs 'data' and 'format'.", param: "\(partPath).input_audio")
                }
                return .object(["inlineData": .object(["mimeType": .string("audio/\(format)"), "data": .string(data)])])
            case "file":
                guard let data = part["file"]?["file_data"]?.stringValue, data.hasPrefix("data:") else {
                    throw .invalidRequest(
                        "'\(partPath).file' must carry 'file_data' as a base64 data URL for Gemini models "
                            + "(file ids are not supported).",
                        param: "\(partPath).file")
                }
                return try media(data, path: "\(partPath).file.file_data")
            default:
                throw .invalidRequest(
                    "'\(partPath).type' \(type ?? "?") is not supported for Gemini models.", param: "\(partPath).type")
            }
        }
    }

    /// A `data:` URL becomes `inlineData`. An `http(s)://` or `gs://` URL becomes `fileData`: the
    /// gateway does not download it (that would put an arbitrary fetch on the request path), so it
    /// works for Files API URIs, Cloud Storage on Vertex and public URLs Gemini fetches itself.
    static func media(_ url: String, path: String) throws(GatewayError) -> JSONValue {
        if url.hasPrefix("data:") {
            guard let dataURL = DataURL(url) else {
                throw .invalidRequest("'\(path)' must be a base64 data URL (data:<type>;base64,…).", param: path)
            }
            guard !dataURL.mediaType.isEmpty else {
                throw .invalidRequest("'\(path)' has no media type.", param: path)
            }
            return .object([
                "inlineData": .object([
                    "mimeType": .string(String(dataURL.mediaType)), "data": .string(String(dataURL.data)),
                ])
            ])
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") || url.hasPrefix("gs://") else {
            throw .invalidRequest("'\(path)' must be an http(s) or gs:// URL, or a base64 data URL.", param: path)
        }
        return .object(["fileData": .object(["mimeType": .string(mimeType(ofURL: url)), "fileUri": .string(url)])])
    }

    /// `fileData` requires a media type; it is guessed from the URL's extension.
    static func mimeType(ofURL url: String) -> String {
        let path = url.prefix { $0 != "?" && $0 != "#" }
        let suffix = path.split(separator: "/").last?.split(separator: ".").last?.lowercased() ?? ""
        switch suffix {
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "heic": return "image/heic"
        case "heif": return "image/heif"
        case "pdf": return "application/pdf"
        case "mp3": return "audio/mp3"
        case "wav": return "audio/wav"
        case "mp4": return "video/mp4"
        default: return "image/jpeg"  // the parts that carry URLs are image_url parts
        }
    }

    // MARK: Tools

    static func functionDeclarations(_ tools: [JSONValue]) throws(GatewayError) -> [JSONValue] {
        var declarations: [JSONValue] = []
        for (index, tool) in tools.enumerated() {
            if let type = tool["type"]?.stringValue, type != "function" {
                throw .invalidRequest(
                    "'tools[\(index)].type' \(type) is not supported for Gemini models.", param: "tools[\(index)].type")
            }
            guard let function = tool["function"], let name = function["name"]?.stringValue, !name.isEmpty else {
                throw .invalidRequest("'tools[\(index)].function.name' is required.", param: "tools[\(index)].function.name")
            }
            var declaration: JSONObject = ["name": .string(name)]
            if let description = function["description"], !description.isNull { declaration["description"] = description }
            // Standard JSON Schema, as OpenAI clients write it; `parameters` would take only an OpenAPI subset.
            if let parameters = function["parameters"], !parameters.isNull { declaration["parametersJsonSchema"] = parameters }
            declarations.append(.object(declaration))
        }
        return declarations
    }

    static func functionCallingConfig(_ choice: JSONValue) throws(GatewayError) -> JSONValue {
        switch choice {
        case .string("auto"): return .object(["mode": "AUTO"])
        case .string("required"): return .object(["mode": "ANY"])
        case .string("none"): return .object(["mode": "NONE"])
        default:
            guard choice["type"]?.stringValue == "function", let name = choice["function"]?["name"]?.stringValue else {
                throw .invalidRequest("'tool_choice' must be auto, required, none or a function.", param: "tool_choice")
            }
            return .object(["mode": "ANY", "allowedFunctionNames": .array([.string(name)])])
        }
    }

    // MARK: Generation settings

    static func generationConfig(_ body: JSONObject) throws(GatewayError) -> JSONObject {
        var config = JSONObject()
        if let limit = body["max_completion_tokens"]?.intValue ?? body["max_tokens"]?.intValue {
            config["maxOutputTokens"] = .int(limit)
        }
        // Numbers are passed on as the client wrote them.
        let renamed = [
            ("temperature", "temperature"), ("top_p", "topP"), ("n", "candidateCount"), ("seed", "seed"),
            ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty"),
            ("top_logprobs", "logprobs"),
        ]
        for (openAI, gemini) in renamed {
            if let value = body[openAI], value.doubleValue != nil { config[gemini] = value }
        }
        if let stop = RequestTranslation.stopSequences(body) { config["stopSequences"] = stop }
        if body["logprobs"]?.boolValue == true { config["responseLogprobs"] = true }
        if let format = body["response_format"], !format.isNull {
            switch format["type"]?.stringValue {
            case "text":
                break
            case "json_object":
                config["responseMimeType"] = "application/json"
            case "json_schema":
                guard let schema = format["json_schema"]?["schema"], schema.objectValue != nil else {
                    throw .invalidRequest(
                        "'response_format.json_schema.schema' must be a JSON Schema object.",
                        param: "response_format.json_schema.schema")
                }
                config["responseMimeType"] = "application/json"
                // Full JSON Schema; `responseSchema` would take only Gemini's OpenAPI subset.
                config["responseJsonSchema"] = schema
            default:
                throw .invalidRequest(
                    "'response_format.type' must be text, json_object or json_schema.", param: "response_format.type")
            }
        }
        if let thinking = try thinkingConfig(body) { config["thinkingConfig"] = thinking }
        return config
    }

    /// `reasoning_effort` sets a budget; LiteLLM's `thinking` extension (`{type:"enabled",
    /// budget_tokens}`) also asks for thought summaries, which come back as `reasoning_content`.
    static func thinkingConfig(_ body: JSONObject) throws(GatewayError) -> JSONValue? {
        if let thinking = body["thinking"], !thinking.isNull {
            switch thinking["type"]?.stringValue {
            case "enabled":
                var config: JSONObject = ["includeThoughts": true]
                if let budget = thinking["budget_tokens"]?.intValue { config["thinkingBudget"] = .int(budget) }
                return .object(config)
            case "disabled":
                return .object(["thinkingBudget": .int(0)])
            default:
                throw .invalidRequest("'thinking.type' must be enabled or disabled.", param: "thinking.type")
            }
        }
        guard let effort = body["reasoning_effort"], !effort.isNull else { return nil }
        guard let budget = effort.stringValue.flatMap({ thinkingBudgets[$0] }) else {
            throw .invalidRequest(
                "'reasoning_effort' must be one of none, minimal, low, medium, high, xhigh or max.", param: "reasoning_effort")
        }
        return .object(["thinkingBudget": .int(budget)])
    }
}
