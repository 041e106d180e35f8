import Telemetry

/// OpenAI's Responses API (`POST /v1/responses`) for deployments whose provider speaks only Chat
/// Completions: a Responses request becomes a chat request for the pipeline, and the chat answer
/// becomes a `Response`. The conversation behind `previous_response_id` is kept by the gateway
/// and arrives here as chat messages.
enum ResponsesInbound {
    /// Checks the fields the gateway itself relies on; native deployments get the body as is.
    static func validate(_ body: JSONObject) throws(GatewayError) {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' is required and must be a non-empty string.", param: "model")
        }
        guard let input = body["input"], !input.isNull else {
            throw .invalidRequest("'input' is required: a string or an array of input items.", param: "input")
        }
        guard input.stringValue != nil || input.arrayValue != nil else {
            throw .invalidRequest(
                "'input' must be a string or an array of input items, found \(input.typeName).", param: "input")
        }
        // Not served on any deployment: a background response is answered (and would be charged)
        // after the request ends; a provider-side conversation, and the items an item reference
        // names, live under a key every caller shares, where the gateway cannot tell whose they are.
        if body["background"]?.boolValue == true {
            throw .invalidRequest(
                "'background' responses are not served by this gateway: it answers, and charges, each request as "
                    + "it completes. Send the request without 'background'.", param: "background")
        }
        if let conversation = body["conversation"], !conversation.isNull {
            throw .invalidRequest(
                "'conversation' is not served by this gateway. Use 'previous_response_id' to continue a response.",
                param: "conversation")
        }
        for (index, item) in (input.arrayValue ?? []).enumerated() where isItemReference(item) {
            throw .invalidRequest(
                "'input[\(index)]' is an item_reference, which this gateway does not resolve: a provider's items "
                    + "belong to whoever shares its key. Send the item itself, or use 'previous_response_id'.",
                param: "input[\(index)].type")
        }
        try OpenAIRequest.optional(body, "instructions", as: "a string", \.stringValue)
        try OpenAIRequest.optional(body, "stream", as: "a boolean", \.boolValue)
        try OpenAIRequest.optional(body, "previous_response_id", as: "a string", \.stringValue)
        try OpenAIRequest.optional(body, "store", as: "a boolean", \.boolValue)
        if let metadata = body["metadata"], !metadata.isNull {
            guard let object = metadata.objectValue else {
                throw .invalidRequest(
                    "'metadata' must be an object of strings, found \(metadata.typeName).", param: "metadata")
            }
            for member in object.members where member.value.stringValue == nil {
                throw .invalidRequest(
                    "'metadata.\(member.key)' must be a string, found \(member.value.typeName).",
                    param: "metadata.\(member.key)")
            }
        }
    }

    /// `{"type":"item_reference","id":…}`, or an item with an id and neither type nor role.
    static func isItemReference(_ item: JSONValue) -> Bool {
        if let type = item["type"], !type.isNull { return type.stringValue == "item_reference" }
        return item["role"] == nil && item["id"] != nil
    }

    /// A Responses request as a chat completion request for the same model: instructions, then
    /// the earlier turns (`history`, chat-shaped), then this turn's input.
    static func chatRequest(from body: JSONObject, history: [JSONValue]) throws(GatewayError) -> JSONObject {
        try validate(body)
        if let prompt = body["prompt"], !prompt.isNull {
            throw .invalidRequest(
                "'prompt' (a stored prompt template) needs an OpenAI or Azure deployment; this model is served "
                    + "through Chat Completions.", param: "prompt")
        }
        var out: JSONObject = ["model": body["model"] ?? .null]
        var messages: [JSONValue] = []
        if let instructions = body["instructions"]?.stringValue {
            messages.append(.object(["role": "system", "content": .string(instructions)]))
        }
        messages += history
        messages += try inputMessages(body)
        out["messages"] = .array(messages)

        var tools: [JSONValue]?
        if let value = body["tools"], !value.isNull { tools = try chatTools(value) }
        if let choice = body["tool_choice"], !choice.isNull {
            let (mapped, allowed) = try toolChoice(choice)
            out["tool_choice"] = mapped
            // `allowed_tools` narrows the tools the model may call: the same as sending only those.
            if let allowed {
                tools = tools?.filter { tool in
                    tool["function"]?["name"]?.stringValue.map { allowed.contains($0) } ?? false
                }
            }
        }
        if let tools { out["tools"] = .array(tools) }

        if let value = body["max_output_tokens"], !value.isNull {
            guard let maxTokens = value.intValue, maxTokens > 0 else {
                throw .invalidRequest("'max_output_tokens' must be a positive integer.", param: "max_output_tokens")
            }
            out["max_tokens"] = .int(maxTokens)
        }
        if let text = body["text"], !text.isNull { try textOptions(text, into: &out) }
        if let reasoning = body["reasoning"], !reasoning.isNull {
            guard reasoning.objectValue != nil else {
                throw .invalidRequest("'reasoning' must be an object, found \(reasoning.typeName).", param: "reasoning")
            }
            if let effort = reasoning["effort"], !effort.isNull {
                guard effort.stringValue != nil else {
                    throw .invalidRequest("'reasoning.effort' must be a string.", param: "reasoning.effort")
                }
                out["reasoning_effort"] = effort
            }
        }
        let copied: [(String, String, (JSONValue) -> Bool)] = [
            ("temperature", "a number", { $0.doubleValue != nil }),
            ("top_p", "a number", { $0.doubleValue != nil }),
            ("user", "a string", { $0.stringValue != nil }),
            ("metadata", "an object", { $0.objectValue != nil }),
            ("service_tier", "a string", { $0.stringValue != nil }),
            ("safety_identifier", "a string", { $0.stringValue != nil }),
            ("prompt_cache_key", "a string", { $0.stringValue != nil }),
        ]
        // `parallel_tool_calls: false` is kept by the gateway, which gives back only the first
        // call (`singleCall`): several chat providers cannot be told, and refuse it.
        try OpenAIRequest.optional(body, "parallel_tool_calls", as: "a boolean", \.boolValue)
        for (field, expected, isValid) in copied {
            guard let value = body[field], !value.isNull else { continue }
            guard isValid(value) else {
                throw .invalidRequest("'\(field)' must be \(expected), found \(value.typeName).", param: field)
            }
            out[field] = value
        }
        if let value = body["top_logprobs"], !value.isNull {
            guard let count = value.intValue, (0...20).contains(count) else {
                throw .invalidRequest("'top_logprobs' must be an integer from 0 to 20.", param: "top_logprobs")
            }
            out["logprobs"] = true
            out["top_logprobs"] = .int(count)
        }
        if body["stream"]?.boolValue == true {
            out["stream"] = true
            // The terminal `response.completed` carries usage, which chat streams send only when asked.
            out["stream_options"] = .object(["include_usage": true])
        }
        return out
    }

    /// The chat messages made from `input` alone (no instructions, no history).
    /// `skippingUnsupported`: items with no chat form are left out instead of refused (for
    /// keeping the history of a turn a native deployment answered).
    static func inputMessages(_ body: JSONObject, skippingUnsupported: Bool = false) throws(GatewayError) -> [JSONValue] {
        switch body["input"] {
        case .string(let text)?:
            return [.object(["role": "user", "content": .string(text)])]
        case .array(let items)?:
            guard items.count <= maxInputItems else {
                throw .invalidRequest("'input' has more than \(maxInputItems) items.", param: "input")
            }
            var messages: [JSONValue] = []
            var calls: [Int: [JSONValue]] = [:]
            for (index, item) in items.enumerated() {
                do throws(GatewayError) {
                    try append(item, at: "input[\(index)]", to: &messages, calls: &calls)
                } catch {
                    if !skippingUnsupported { throw error }
                }
            }
            for (index, run) in calls {
                guard case .object(var message) = messages[index] else { continue }
                message["tool_calls"] = .array(run)
                messages[index] = .object(message)
            }
            return messages
        default:
            throw .invalidRequest("'input' must be a string or an array of input items.", param: "input")
        }
    }

    /// Item types of built-in tools (and other server-side features) that only OpenAI runs.
    static let builtInItemTypes: Set<String> = [
        "computer_call", "computer_call_output", "web_search_call", "file_search_call", "image_generation_call",
        "code_interpreter_call", "local_shell_call", "local_shell_call_output", "shell_call", "shell_call_output",
        "apply_patch_call", "apply_patch_call_output", "mcp_list_tools", "mcp_approval_request",
        "mcp_approval_response", "mcp_call", "custom_tool_call", "custom_tool_call_output", "tool_search_call",
        "tool_search_output", "additional_tools", "compaction", "program", "program_output",
    ]

    /// One input item as chat messages. Consecutive `function_call` items (and a function call
    /// right after an assistant message) make one assistant message, as chat expects.
    /// The most input items a request may have.
    static let maxInputItems = 10_000

    static func append(
        _ item: JSONValue, at path: String, to messages: inout [JSONValue], calls pendingCalls: inout [Int: [JSONValue]]
    ) throws(GatewayError) {
        guard item.objectValue != nil else {
            throw .invalidRequest("'\(path)' must be an object, found \(item.typeName).", param: path)
        }
        if let type = item["type"], !type.isNull, type.stringValue == nil {
            throw .invalidRequest("'\(path).type' must be a string, found \(type.typeName).", param: "\(path).type")
        }
        // `type` may be left out of a message (`role`); item references were refused in `validate`.
        let type = item["type"]?.stringValue ?? (item["role"] != nil ? "message" : nil)
        switch type {
        case "message":
            messages.append(try message(item, at: path))
        case "function_call":
            let callID = try string(item, "call_id", at: path)
            let name = try string(item, "name", at: path)
            let arguments = try string(item, "arguments", at: path)
            let call: JSONValue = .object([
                "id": .string(callID), "type": "function",
                "function": .object(["name": .string(name), "arguments": .string(arguments)]),
            ])
            // Consecutive calls gather in one assistant message, appended to in place (a run
            // of calls costs linear time, not a copy of the run per call).
            if let last = messages.indices.last, messages[last]["role"] == "assistant" {
                pendingCalls[last, default: messages[last]["tool_calls"]?.arrayValue ?? []].append(call)
            } else {
                messages.append(.object(["role": "assistant", "content": .null]))
                pendingCalls[messages.count - 1] = [call]
            }
        case "function_call_output":
            let callID = try string(item, "call_id", at: path)
            messages.append(
                .object([
                    "role": "tool", "tool_call_id": .string(callID),
                    "content": try toolOutput(item["output"], at: "\(path).output"),
                ]))
        case "reasoning":
            break  // the model's own reasoning: chat has no slot for it
        case let other?:
            if builtInItemTypes.contains(other) || other.hasSuffix("_call") || other.hasSuffix("_call_output") {
                throw .invalidRequest(
                    "'\(path).type' '\(other)' belongs to a built-in tool, which needs an OpenAI or Azure deployment; "
                        + "this model is served through Chat Completions.", param: "\(path).type")
            }
            throw .invalidRequest(
                "'\(path).type' '\(other)' is not an input item type (message, function_call, "
                    + "function_call_output, reasoning).", param: "\(path).type")
        case nil:
            throw .invalidRequest("'\(path).type' is required.", param: "\(path).type")
        }
    }

    /// A message item: string content stays a string; parts become chat parts. An assistant's
    /// earlier answer (`output_text`, `refusal`) becomes its joined text.
    static func message(_ item: JSONValue, at path: String) throws(GatewayError) -> JSONValue {
        guard let role = item["role"]?.stringValue, ["user", "assistant", "system", "developer"].contains(role) else {
            throw .invalidRequest(
                "'\(path).role' must be 'user', 'assistant', 'system' or 'developer'.", param: "\(path).role")
        }
        guard let content = item["content"] else {
            throw .invalidRequest("'\(path).content' is required.", param: "\(path).content")
        }
        if let text = content.stringValue { return .object(["role": .string(role), "content": .string(text)]) }
        guard let parts = content.arrayValue else {
            throw .invalidRequest(
                "'\(path).content' must be a string or an array of content parts, found \(content.typeName).",
                param: "\(path).content")
        }
        if role == "assistant" {
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                let partPath = "\(path).content[\(index)]"
                switch part["type"]?.stringValue {
                case "output_text", "input_text":
                    texts.append(try string(part, "text", at: partPath))
                case "refusal":
                    texts.append(try string(part, "refusal", at: partPath))
                default:
                    throw .invalidRequest(
                        "'\(partPath).type' must be 'output_text' or 'refusal' in an assistant message.",
                        param: "\(partPath).type")
                }
            }
            return .object(["role": "assistant", "content": .string(texts.joined())])
        }
        var converted: [JSONValue] = []
        for (index, part) in parts.enumerated() {
            converted.append(try contentPart(part, at: "\(path).content[\(index)]"))
        }
        return .object(["role": .string(role), "content": .array(converted)])
    }

    /// An input content part as a chat content part.
    static func contentPart(_ part: JSONValue, at path: String) throws(GatewayError) -> JSONValue {
        guard part.objectValue != nil else {
            throw .invalidRequest("'\(path)' must be an object, found \(part.typeName).", param: path)
        }
        switch part["type"]?.stringValue {
        case "input_text":
            return .object(["type": "text", "text": .string(try string(part, "text", at: path))])
        case "input_image":
            let detail = try optionalString(part, "detail", at: path) ?? "auto"
            if let url = try optionalString(part, "image_url", at: path) {
                return .object([
                    "type": "image_url", "image_url": .object(["url": .string(url), "detail": .string(detail)]),
                ])
            }
            if try optionalString(part, "file_id", at: path) != nil {
                throw .invalidRequest(
                    "'\(path).file_id': an image given by file id needs an OpenAI or Azure deployment; send "
                        + "'image_url' (an http(s) or data: URL) instead.", param: "\(path).file_id")
            }
            throw .invalidRequest(
                "'\(path).image_url' is required: an http(s) or data: URL.", param: "\(path).image_url")
        case "input_file":
            if try optionalString(part, "file_url", at: path) != nil {
                throw .invalidRequest(
                    "'\(path).file_url' has no Chat Completions equivalent; send 'file_data' or use an OpenAI or "
                        + "Azure deployment.", param: "\(path).file_url")
            }
            var file = JSONObject()
            if let data = try optionalString(part, "file_data", at: path) {
                file["file_data"] = .string(data)
            } else if let id = try optionalString(part, "file_id", at: path) {
                file["file_id"] = .string(id)
            } else {
                throw .invalidRequest(
                    "'\(path).file_data' or '\(path).file_id' is required.", param: "\(path).file_data")
            }
            if let filename = try optionalString(part, "filename", at: path) { file["filename"] = .string(filename) }
            return .object(["type": "file", "file": .object(file)])
        case let other?:
            throw .invalidRequest(
                "'\(path).type' '\(other)' is not an input content part (input_text, input_image, input_file).",
                param: "\(path).type")
        case nil:
            throw .invalidRequest("'\(path).type' is required.", param: "\(path).type")
        }
    }

    /// A function call's output: a string, or text parts (images and files cannot go in a chat
    /// tool message).
    static func toolOutput(_ output: JSONValue?, at path: String) throws(GatewayError) -> JSONValue {
        guard let output else { throw .invalidRequest("'\(path)' is required.", param: path) }
        if let text = output.stringValue { return .string(text) }
        guard let parts = output.arrayValue else {
            throw .invalidRequest(
                "'\(path)' must be a string or an array of content parts, found \(output.typeName).", param: path)
        }
        var converted: [JSONValue] = []
        for (index, part) in parts.enumerated() {
            let partPath = "\(path)[\(index)]"
            guard part["type"]?.stringValue == "input_text" else {
                throw .invalidRequest(
                    "'\(partPath).type' must be 'input_text': a Chat Completions tool message carries text only.",
                    param: "\(partPath).type")
            }
            converted.append(.object(["type": "text", "text": .string(try string(part, "text", at: partPath))]))
        }
        return .array(converted)
    }

    /// Responses' flat function tools as chat's nested ones; any other tool type is OpenAI's own.
    static func chatTools(_ value: JSONValue) throws(GatewayError) -> [JSONValue] {
        guard let tools = value.arrayValue else {
            throw .invalidRequest("'tools' must be an array, found \(value.typeName).", param: "tools")
        }
        var out: [JSONValue] = []
        for (index, tool) in tools.enumerated() {
            let path = "tools[\(index)]"
            guard tool.objectValue != nil else {
                throw .invalidRequest("'\(path)' must be an object, found \(tool.typeName).", param: path)
            }
            let type = try string(tool, "type", at: path)
            guard type == "function" else {
                throw .invalidRequest(
                    "'\(path).type' '\(type)' is a built-in tool, which needs an OpenAI or Azure deployment; this "
                        + "model is served through Chat Completions, which takes function tools only.",
                    param: "\(path).type")
            }
            var function: JSONObject = ["name": .string(try string(tool, "name", at: path))]
            if let description = try optionalString(tool, "description", at: path) {
                function["description"] = .string(description)
            }
            if let parameters = tool["parameters"], !parameters.isNull {
                guard parameters.objectValue != nil else {
                    throw .invalidRequest(
                        "'\(path).parameters' must be a JSON Schema object, found \(parameters.typeName).",
                        param: "\(path).parameters")
                }
                function["parameters"] = parameters
            }
            if let strict = tool["strict"], !strict.isNull {
                guard strict.boolValue != nil else {
                    throw .invalidRequest("'\(path).strict' must be a boolean.", param: "\(path).strict")
                }
                function["strict"] = strict
            }
            out.append(.object(["type": "function", "function": .object(function)]))
        }
        return out
    }

    /// `tool_choice` in chat's terms, and for `allowed_tools` the names the model may call.
    static func toolChoice(_ choice: JSONValue) throws(GatewayError) -> (choice: JSONValue, allowed: [String]?) {
        if let mode = choice.stringValue {
            guard ["none", "auto", "required"].contains(mode) else {
                throw .invalidRequest(
                    "'tool_choice' must be 'none', 'auto', 'required' or an object.", param: "tool_choice")
            }
            return (choice, nil)
        }
        guard choice.objectValue != nil else {
            throw .invalidRequest(
                "'tool_choice' must be a string or an object, found \(choice.typeName).", param: "tool_choice")
        }
        switch choice["type"]?.stringValue {
        case "function":
            let name = try string(choice, "name", at: "tool_choice")
            return (.object(["type": "function", "function": .object(["name": .string(name)])]), nil)
        case "allowed_tools":
            guard let mode = choice["mode"]?.stringValue, mode == "auto" || mode == "required" else {
                throw .invalidRequest("'tool_choice.mode' must be 'auto' or 'required'.", param: "tool_choice.mode")
            }
            guard let tools = choice["tools"]?.arrayValue else {
                throw .invalidRequest("'tool_choice.tools' must be an array.", param: "tool_choice.tools")
            }
            var names: [String] = []
            for (index, tool) in tools.enumerated() {
                guard tool["type"]?.stringValue == "function", let name = tool["name"]?.stringValue else {
                    throw .invalidRequest(
                        "'tool_choice.tools[\(index)]' must be a function tool with a name: built-in tools need an "
                            + "OpenAI or Azure deployment.", param: "tool_choice.tools[\(index)]")
                }
                names.append(name)
            }
            return (.string(mode), names)
        case let type?:
            throw .invalidRequest(
                "'tool_choice.type' '\(type)' names a built-in tool, which needs an OpenAI or Azure deployment; this "
                    + "model is served through Chat Completions.", param: "tool_choice.type")
        case nil:
            throw .invalidRequest("'tool_choice.type' is required.", param: "tool_choice.type")
        }
    }

    /// `text.format` as `response_format` (a JSON schema moves under `json_schema`) and
    /// `text.verbosity` as `verbosity`.
    static func textOptions(_ text: JSONValue, into out: inout JSONObject) throws(GatewayError) {
        guard text.objectValue != nil else {
            throw .invalidRequest("'text' must be an object, found \(text.typeName).", param: "text")
        }
        if let format = text["format"], !format.isNull {
            switch format["type"]?.stringValue {
            case "text":
                out["response_format"] = .object(["type": "text"])
            case "json_object":
                out["response_format"] = .object(["type": "json_object"])
            case "json_schema":
                var schema: JSONObject = ["name": .string(try string(format, "name", at: "text.format"))]
                guard let value = format["schema"], value.objectValue != nil else {
                    throw .invalidRequest("'text.format.schema' must be a JSON Schema object.", param: "text.format.schema")
                }
                schema["schema"] = value
                if let strict = format["strict"], !strict.isNull {
                    guard strict.boolValue != nil else {
                        throw .invalidRequest("'text.format.strict' must be a boolean.", param: "text.format.strict")
                    }
                    schema["strict"] = strict
                }
                if let description = try optionalString(format, "description", at: "text.format") {
                    schema["description"] = .string(description)
                }
                out["response_format"] = .object(["type": "json_schema", "json_schema": .object(schema)])
            default:
                throw .invalidRequest(
                    "'text.format.type' must be 'text', 'json_object' or 'json_schema'.", param: "text.format.type")
            }
        }
        if let verbosity = try optionalString(text, "verbosity", at: "text") { out["verbosity"] = .string(verbosity) }
    }

    static func string(_ value: JSONValue, _ key: String, at path: String) throws(GatewayError) -> String {
        guard let string = value[key]?.stringValue else {
            throw .invalidRequest("'\(path).\(key)' is required and must be a string.", param: "\(path).\(key)")
        }
        return string
    }

    /// The member as a string; nil when absent or null, a 400 when something else.
    static func optionalString(_ value: JSONValue, _ key: String, at path: String) throws(GatewayError) -> String? {
        guard let member = value[key], !member.isNull else { return nil }
        guard let string = member.stringValue else {
            throw .invalidRequest(
                "'\(path).\(key)' must be a string, found \(member.typeName).", param: "\(path).\(key)")
        }
        return string
    }
}

// MARK: - Chat answers as Responses

extension ResponsesInbound {
    /// A `chat.completion` as a `Response`: the message item first, then one `function_call`
    /// item per tool call.
    static func response(fromCompletion completion: JSONValue, request: JSONObject, id: String, createdAt: Int)
        -> JSONObject
    {
        let model = present(completion["model"])
        guard let choice = completion["choices"]?.arrayValue?.first, let message = choice["message"],
            message.objectValue != nil
        else {
            return response(
                id: id, request: request, createdAt: createdAt, status: "failed", model: model, output: [],
                usage: usage(fromChat: completion["usage"]),
                error: .object(["code": "server_error", "message": "The upstream answer has no message."]))
        }
        let (status, reason) = outcome(finishReason: choice["finish_reason"]?.stringValue)
        var output: [JSONValue] = []
        var parts: [JSONValue] = []
        let text = chatText(message["content"])
        let refusal = message["refusal"]?.stringValue
        let calls = (message["tool_calls"]?.arrayValue ?? []).prefix(singleCall(request) ? 1 : .max)
        if let text, !text.isEmpty || (refusal == nil && calls.isEmpty) {
            parts.append(outputTextPart(text, annotations: (message["annotations"]?.arrayValue ?? []).map(annotation)))
        }
        if let refusal { parts.append(refusalPart(refusal)) }
        if !parts.isEmpty { output.append(messageItem(id: messageID(id), status: "completed", content: parts)) }
        for (ordinal, call) in calls.enumerated() {
            output.append(
                functionCallItem(
                    id: functionCallID(id, ordinal: ordinal), callID: call["id"] ?? .null,
                    name: call["function"]?["name"] ?? .null,
                    arguments: call["function"]?["arguments"]?.stringValue ?? "", status: "completed"))
        }
        // A cut-off answer leaves its last item unfinished.
        if status != "completed", case .object(var last)? = output.last {
            last["status"] = "incomplete"
            output[output.count - 1] = .object(last)
        }
        return response(
            id: id, request: request, createdAt: createdAt, status: status, model: model, output: output,
            usage: usage(fromChat: completion["usage"]), incompleteReason: reason,
            serviceTier: present(completion["service_tier"]))
    }

    /// `parallel_tool_calls: false`: the answer keeps its first function call only.
    static func singleCall(_ request: JSONObject) -> Bool {
        request["parallel_tool_calls"]?.boolValue == false
    }

    /// The one builder of `Response` objects, for whole answers and for each streamed event.
    static func response(
        id: String, request: JSONObject, createdAt: Int, status: String, model: JSONValue?, output: [JSONValue],
        usage: JSONValue, incompleteReason: String? = nil, error: JSONValue = .null, serviceTier: JSONValue? = nil
    ) -> JSONObject {
        func echo(_ field: String, _ absent: JSONValue) -> JSONValue {
            guard let value = request[field], !value.isNull else { return absent }
            return value
        }
        // No clock here: a finished answer is dated when its response was created.
        let completedAt: JSONValue = status == "completed" ? .int(createdAt) : .null
        var incompleteDetails = JSONValue.null
        if let incompleteReason { incompleteDetails = .object(["reason": .string(incompleteReason)]) }
        let echoedModel: JSONValue = model ?? echo("model", .null)
        var response: JSONObject = [
            "id": .string(id),
            "object": "response",
            "created_at": .int(createdAt),
            "status": .string(status),
            "completed_at": completedAt,
            "error": error,
            "incomplete_details": incompleteDetails,
            "instructions": echo("instructions", .null),
            "max_output_tokens": echo("max_output_tokens", .null),
            "model": echoedModel,
            "output": .array(output),
            "parallel_tool_calls": echo("parallel_tool_calls", true),
            "previous_response_id": echo("previous_response_id", .null),
            "reasoning": echo("reasoning", .null),
        ]
        if let tier = serviceTier ?? present(request["service_tier"]) {
            response["service_tier"] = tier
        }
        response["store"] = echo("store", true)
        response["temperature"] = echo("temperature", .null)
        response["text"] = echo("text", .object(["format": .object(["type": "text"])]))
        response["tool_choice"] = echo("tool_choice", "auto")
        response["tools"] = echo("tools", .array([]))
        response["top_p"] = echo("top_p", .null)
        response["truncation"] = echo("truncation", "disabled")
        response["usage"] = usage
        response["user"] = echo("user", .null)
        response["metadata"] = echo("metadata", .object([:]))
        return response
    }

    /// The value unless it is absent or null.
    static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    /// A chat `finish_reason` as a Response status and `incomplete_details.reason`.
    static func outcome(finishReason: String?) -> (status: String, incompleteReason: String?) {
        switch finishReason {
        case "length": return (status: "incomplete", incompleteReason: "max_output_tokens")
        case "content_filter": return (status: "incomplete", incompleteReason: "content_filter")
        default: return (status: "completed", incompleteReason: nil)
        }
    }

    /// Chat usage in Responses' terms; the detail counts are 0 when the upstream gave none.
    static func usage(fromChat usage: JSONValue?) -> JSONValue {
        guard let usage, usage.objectValue != nil else { return .null }
        let input = usage["prompt_tokens"]?.tokenCount ?? 0
        let output = usage["completion_tokens"]?.tokenCount ?? 0
        return .object([
            "input_tokens": .int(input),
            "input_tokens_details": .object([
                "cached_tokens": .int(usage["prompt_tokens_details"]?["cached_tokens"]?.tokenCount ?? 0)
            ]),
            "output_tokens": .int(output),
            "output_tokens_details": .object([
                "reasoning_tokens": .int(usage["completion_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
            ]),
            "total_tokens": .int(usage["total_tokens"]?.tokenCount ?? input + output),
        ])
    }

    /// Chat's nested `{type, <type>:{…}}` annotation flattened (`url_citation`).
    static func annotation(_ annotation: JSONValue) -> JSONValue {
        guard let type = annotation["type"]?.stringValue, let nested = annotation[type]?.objectValue else {
            return annotation
        }
        var flat: JSONObject = ["type": .string(type)]
        for member in nested.members { flat[member.key] = member.value }
        return .object(flat)
    }

    /// Chat message content as text: a string, or its text parts joined.
    static func chatText(_ content: JSONValue?) -> String? {
        if let text = content?.stringValue { return text }
        return content?.arrayValue?.compactMap { $0["text"]?.stringValue }.joined()
    }

    /// Item ids follow the response id, so a stream and its stored response agree.
    static func messageID(_ id: String, ordinal: Int = 0) -> String {
        "msg_" + idSuffix(id) + (ordinal == 0 ? "" : "_\(ordinal)")
    }

    static func functionCallID(_ id: String, ordinal: Int) -> String {
        "fc_" + idSuffix(id) + "_\(ordinal)"
    }

    static func idSuffix(_ id: String) -> String {
        id.hasPrefix("resp_") ? String(id.dropFirst("resp_".count)) : id
    }

    static func outputTextPart(_ text: String, annotations: [JSONValue] = []) -> JSONValue {
        .object(["type": "output_text", "text": .string(text), "annotations": .array(annotations)])
    }

    static func refusalPart(_ refusal: String) -> JSONValue {
        .object(["type": "refusal", "refusal": .string(refusal)])
    }

    static func messageItem(id: String, status: String, content: [JSONValue]) -> JSONValue {
        .object([
            "id": .string(id), "type": "message", "status": .string(status), "role": "assistant",
            "content": .array(content),
        ])
    }

    static func functionCallItem(id: String, callID: JSONValue, name: JSONValue, arguments: String, status: String)
        -> JSONValue
    {
        .object([
            "id": .string(id), "type": "function_call", "call_id": callID, "name": name,
            "arguments": .string(arguments), "status": .string(status),
        ])
    }
}

// MARK: - History as chat messages

extension ResponsesInbound {
    /// A Response's output as chat history: its messages' text and its function calls make one
    /// assistant message. Other items (reasoning, built-in tool calls) have no chat form.
    static func chatMessages(fromOutput output: [JSONValue]) -> [JSONValue] {
        var texts: [String] = []
        var hasText = false
        var calls: [JSONValue] = []
        for item in output {
            switch item["type"]?.stringValue {
            case "message":
                for part in item["content"]?.arrayValue ?? [] {
                    guard let text = part["text"]?.stringValue ?? part["refusal"]?.stringValue else { continue }
                    texts.append(text)
                    hasText = true
                }
            case "function_call":
                calls.append(
                    .object([
                        "id": item["call_id"] ?? .null, "type": "function",
                        "function": .object([
                            "name": item["name"] ?? .null, "arguments": item["arguments"] ?? .string(""),
                        ]),
                    ]))
            default:
                continue
            }
        }
        guard hasText || !calls.isEmpty else { return [] }
        var message: JSONObject = ["role": "assistant", "content": hasText ? .string(texts.joined()) : .null]
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        return [.object(message)]
    }
}
