import Telemetry

/// What the scorers and the judge's verdict parser read out of a model's free text.
enum AnswerText {
    /// The text trimmed of whitespace, with at most one surrounding Markdown code fence removed
    /// (```` ``` ```` or ```` ```json ````), because chat models wrap JSON in a fence even when told
    /// not to. Only the whole text may be fenced: prose before or after the fence is kept, so a
    /// strict parse of the result still rejects it.
    static func unfenced(_ text: String) -> Substring {
        let trimmed = trimmingWhitespace(text[...])
        let fence = "```"
        guard trimmed.count >= 2 * fence.count, trimmed.hasPrefix(fence), trimmed.hasSuffix(fence) else { return trimmed }
        let inner = trimmed.dropFirst(fence.count).dropLast(fence.count)
        if let newline = inner.firstIndex(where: \.isNewline) {
            // The opening line may only carry the info string `json`; anything else means this is
            // not a fence around one JSON document.
            let info = trimmingWhitespace(inner[..<newline])
            guard info.isEmpty || info.lowercased() == "json" else { return trimmed }
            return trimmingWhitespace(inner[inner.index(after: newline)...])
        }
        // One line: ```{"a": 1}``` or ```json {"a": 1}```.
        var body = trimmingWhitespace(inner)
        if body.prefix(4).lowercased() == "json", let next = body.dropFirst(4).first, next.isWhitespace {
            body = trimmingWhitespace(body.dropFirst(4))
        }
        return body
    }

    /// Parses `text` (trimmed, one fence allowed) as exactly one JSON document.
    static func json(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(unfenced(text).utf8))
    }

    static func trimmingWhitespace(_ text: Substring) -> Substring {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return text[text.endIndex...] }
        return text[first...last]
    }

    /// A value's text for comparing with an answer: a string as it is, any other JSON as written.
    static func text(of value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return value.encodedString()
    }

    /// Renders a short excerpt of untrusted text for an error message: at most `limit` characters,
    /// control characters escaped, so a huge or hostile answer cannot flood a log line.
    static func excerpt(_ text: String, limit: Int = 200) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
