import Telemetry

/// Steps shared by adapters that rebuild an OpenAI request in a provider's own shape, and the few
/// they share on the way back. Every refusal names the field, so a client
/// can see what to change.
enum RequestTranslation {
    /// The text of an OpenAI `content`: a string, or text parts joined with newlines. Any other
    /// part type is refused by its path.
    static func text(_ content: JSONValue?, path: String, provider: String) throws(GatewayError) -> String {
        guard let content, !content.isNull else { return "" }
        if let text = content.stringValue { return text }
        guard let parts = content.arrayValue else {
            throw .invalidRequest("'\(path)' must be a string or an array of parts.", param: path)
        }
        var texts: [String] = []
        for (k, part) in parts.enumerated() {
            guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                let type = part["type"]?.stringValue ?? "?"
                throw .invalidRequest(
                    "'\(path)[\(k)]' of type \(type) is not supported here for \(provider) models.", param: "\(path)[\(k)].type")
            }
            texts.append(text)
        }
        return texts.joined(separator: "\n")
    }

    /// `max_completion_tokens`, or the older `max_tokens`.
    static func maxTokens(_ body: JSONObject) -> Int? {
        (body["max_completion_tokens"] ?? body["max_tokens"])?.intValue
    }

    /// OpenAI `stop` (one string or several) as an array.
    static func stopSequences(_ body: JSONObject) -> JSONValue? {
        guard let stop = body["stop"], !stop.isNull else { return nil }
        return stop.stringValue.map { .array([.string($0)]) } ?? stop
    }

    /// A tool call's `function.name` and its `arguments` parsed as the JSON object OpenAI says it
    /// is. An unparsable string is refused rather than sent as `{}`, which would call the tool with
    /// arguments the model never gave.
    static func toolCall(_ call: JSONValue, path: String) throws(GatewayError) -> (name: String, arguments: JSONObject) {
        guard let name = call["function"]?["name"]?.stringValue, !name.isEmpty else {
            throw .invalidRequest("'\(path).function.name' is required.", param: "\(path).function.name")
        }
        let arguments = call["function"]?["arguments"]
        if let object = arguments?.objectValue { return (name, object) }
        let text = arguments?.stringValue ?? "{}"
        guard let object = (try? JSONParser.parse(text))?.objectValue else {
            throw .invalidRequest("'\(path).function.arguments' is not a JSON object.", param: "\(path).function.arguments")
        }
        return (name, object)
    }

    /// The `tools` array, each checked for a function name; the OpenAI envelope is kept, since
    /// Cohere and Ollama both take it as is.
    static func tools(_ body: JSONObject) throws(GatewayError) -> [JSONValue]? {
        guard let tools = body["tools"], !tools.isNull else { return nil }
        guard let list = tools.arrayValue else { throw .invalidRequest("'tools' must be an array.", param: "tools") }
        for (index, tool) in list.enumerated() where tool["function"]?["name"]?.stringValue == nil {
            throw .invalidRequest("'tools[\(index)].function.name' is required.", param: "tools[\(index)].function.name")
        }
        return list.isEmpty ? nil : list
    }

    /// An id for a response or tool call the upstream did not name, in OpenAI's forms
    /// (`chatcmpl-…`, `call_…`): the prefix and 24 random letters and digits.
    static func makeID(_ prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return prefix + String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// Tool-call arguments as the compact JSON string OpenAI uses, whether the upstream sent a
    /// string (Cohere) or an object (Ollama); none at all is an empty object.
    static func argumentsText(_ arguments: JSONValue?) -> String {
        if let text = arguments?.stringValue { return text }
        if let object = arguments?.objectValue { return JSONValue.object(object).encodedString() }
        return "{}"
    }
}
