import Telemetry

/// OpenAI's tool-call object: `{"id","type":"function","function":{"name","arguments"}}`, with
/// the arguments as a JSON string. In stream deltas it is numbered by `index` among the tool calls
/// of its choice, and later fragments carry only the index and more arguments.
/// https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
enum CanonicalToolCall {
    /// A whole call (in a message), or the start of one (in a delta, with `index`).
    static func json(index: Int? = nil, id: JSONValue, name: JSONValue, arguments: String) -> JSONObject {
        var call = JSONObject()
        if let index { call["index"] = .int(index) }
        call["id"] = id
        call["type"] = "function"
        call["function"] = .object(["name": name, "arguments": .string(arguments)])
        return call
    }

    /// A later piece of a streamed call's arguments.
    static func fragment(index: Int, arguments: String) -> JSONObject {
        ["index": .int(index), "function": .object(["arguments": .string(arguments)])]
    }
}
