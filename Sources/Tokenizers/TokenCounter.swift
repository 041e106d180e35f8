import Telemetry

/// Counts the tokens of OpenAI-shaped prompts: with the model's BPE encoding where it is known
/// and loaded, else with `FallbackEstimate`. One counter serves `count_tokens`, the pre-call
/// context-window check and the usage charged when an upstream reports none.
public struct TokenCounter: Sendable {
    /// Nil: every count is an estimate.
    public let store: TokenizerStore?

    public init(store: TokenizerStore?) {
        self.store = store
    }

    /// A counter with no rank files: estimates only.
    public static let estimating = TokenCounter(store: nil)

    /// The loaded tokenizer for an OpenAI model name (no `openai/` prefix); nil while loading or
    /// when no rank file is available. A name tiktoken does not know (a new model, an Azure
    /// deployment name) is taken as `o200k_base`, the encoding of every OpenAI model since gpt-4o.
    public func tokenizer(forOpenAIModel model: String) -> BPETokenizer? {
        store?.tokenizer(for: ModelEncodings.encoding(forModel: model) ?? .o200kBase)
    }

    /// The prompt of a chat request: `messages` and `tools` in OpenAI's shape.
    ///
    /// With a tokenizer, the cookbook's procedure: per message `tokensPerMessage`, the tokens of
    /// every string value (role, content, name, …; the text parts of array content; a tool
    /// call's name and arguments), `tokensPerName` for a name, then `replyPriming` once; tools
    /// as `num_tokens_for_tools` counts them. Images, audio and files are not counted.
    /// Without one, `FallbackEstimate` of the message text and the tools' JSON.
    public func count(messages: [JSONValue], tools: [JSONValue], using tokenizer: BPETokenizer?) -> TokenTally {
        guard let tokenizer else {
            var bytes = 0
            for message in messages { forEachText(in: message) { bytes += $0.utf8.count } }
            if !tools.isEmpty { bytes += JSONValue.array(tools).encoded().count }
            return TokenTally(tokens: FallbackEstimate.tokens(bytes: bytes), estimated: true)
        }
        let overhead = ChatOverhead(encoding: tokenizer.encoding)
        var tokens = 0
        var estimated = false
        func add(_ text: String) {
            let tally = count(text: text, using: tokenizer)
            tokens += tally.tokens
            estimated = estimated || tally.estimated
        }
        for message in messages {
            tokens += overhead.tokensPerMessage
            guard let object = message.objectValue else { continue }
            for (key, value) in object.members {
                if let text = value.stringValue {
                    add(text)
                } else if key == "content" || key == "tool_calls" {
                    forEachText(in: value, add)
                }
                if key == "name" { tokens += overhead.tokensPerName }
            }
        }
        tokens += overhead.replyPriming
        tokens += count(tools: tools, tokenizer: tokenizer, overhead: overhead)
        return TokenTally(tokens: tokens, estimated: estimated)
    }

    /// The tokens of plain text (an embeddings input, a completion). A text longer than
    /// `maxExactBytes` is estimated: encoding it would take far more memory than the text.
    public func count(text: String, using tokenizer: BPETokenizer?) -> TokenTally {
        guard let tokenizer, text.utf8.count <= Self.maxExactBytes else {
            return TokenTally(tokens: FallbackEstimate.tokens(text), estimated: true)
        }
        return TokenTally(tokens: tokenizer.count(text), estimated: false)
    }

    /// 4 MiB: about a million tokens of English, as much as the largest context windows hold.
    /// Encoding needs about ten bytes of working memory per character.
    public static let maxExactBytes = 4 * 1024 * 1024

    /// `num_tokens_for_tools` of the cookbook: function name and description, then each
    /// top-level property's name, type, description and enum items (one trailing `.` dropped
    /// from descriptions).
    func count(tools: [JSONValue], tokenizer: BPETokenizer, overhead: ChatOverhead) -> Int {
        guard !tools.isEmpty else { return 0 }
        // Through `count(text:)`, so a huge description is estimated rather than encoded.
        func exact(_ text: String) -> Int { count(text: text, using: tokenizer).tokens }
        var tokens = 0
        for tool in tools {
            let function = tool["function"] ?? tool
            tokens += overhead.functionInit
            let name = function["name"]?.stringValue ?? ""
            tokens += exact(name + ":" + Self.droppingPeriod(function["description"]?.stringValue ?? ""))
            let properties = function["parameters"]?["properties"]?.objectValue?.members ?? []
            if !properties.isEmpty { tokens += overhead.propertiesInit }
            for (key, property) in properties {
                tokens += overhead.propertyKey
                if let items = property["enum"]?.arrayValue {
                    tokens += overhead.enumInit
                    for item in items {
                        tokens += overhead.enumItem + exact(item.stringValue ?? item.encodedString())
                    }
                }
                let type = property["type"].map { $0.stringValue ?? $0.encodedString() } ?? ""
                let description = Self.droppingPeriod(property["description"]?.stringValue ?? "")
                tokens += exact("\(key):\(type):\(description)")
            }
        }
        return tokens + overhead.functionsEnd
    }

    private static func droppingPeriod(_ text: String) -> String {
        text.hasSuffix(".") ? String(text.dropLast()) : text
    }

    /// Every text in a message's content or tool calls: strings, `text` parts, function names
    /// and arguments.
    private func forEachText(in value: JSONValue, _ body: (String) -> Void) {
        switch value {
        case .string(let text): body(text)
        case .array(let items): for item in items { forEachText(in: item, body) }
        case .object(let object):
            if let text = object["text"]?.stringValue { body(text) }
            if let content = object["content"] { forEachText(in: content, body) }
            if let function = object["function"] {
                if let name = function["name"]?.stringValue { body(name) }
                if let arguments = function["arguments"]?.stringValue { body(arguments) }
            }
            if let calls = object["tool_calls"] { forEachText(in: calls, body) }
        default: break
        }
    }
}
