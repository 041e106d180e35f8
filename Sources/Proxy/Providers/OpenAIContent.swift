import Telemetry

/// An OpenAI message's `content` — a string, or an array of typed parts — walked part by part
/// for a provider with content blocks of its own (Anthropic, Gemini, Bedrock).
/// https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages
enum OpenAIContent {
    /// `text` makes the provider's text block; empty text is dropped, since these providers refuse
    /// blank blocks. `other` converts any other part (its type, the part, its path), returning nil
    /// to drop it or throwing to refuse it.
    static func blocks(
        _ content: JSONValue?, path: String, text: (String) -> JSONValue,
        other: (_ type: String?, _ part: JSONValue, _ path: String) throws(GatewayError) -> JSONValue?
    ) throws(GatewayError) -> [JSONValue] {
        guard let content, !content.isNull else { return [] }
        if let string = content.stringValue { return string.isEmpty ? [] : [text(string)] }
        guard let parts = content.arrayValue else {
            throw .invalidRequest("'\(path)' must be a string or an array of parts.", param: path)
        }
        var blocks: [JSONValue] = []
        for (k, part) in parts.enumerated() {
            let type = part["type"]?.stringValue
            if type == "text" {
                if let string = part["text"]?.stringValue, !string.isEmpty { blocks.append(text(string)) }
            } else if let block = try other(type, part, "\(path)[\(k)]") {
                blocks.append(block)
            }
        }
        return blocks
    }

    /// An `image_url` part's URL (`{"image_url":{"url"}}`, or the bare string older clients send);
    /// refused naming the field when it has none.
    static func imageURL(_ part: JSONValue, path: String) throws(GatewayError) -> String {
        guard let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue else {
            throw .invalidRequest("'\(path).image_url.url' is required.", param: "\(path).image_url.url")
        }
        return url
    }

    /// A `tool` message's result as text: a string, or its text parts joined.
    static func toolResultText(_ content: JSONValue?) -> String {
        content?.stringValue ?? (content?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
    }
}
