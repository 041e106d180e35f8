import Telemetry

/// A Gemini `GenerateContentResponse` as an OpenAI `chat.completion`
/// (https://ai.google.dev/api/generate-content#generatecontentresponse). The
/// pieces (parts, finish reasons, usage) are shared with the stream decoder.
enum GeminiResponse {
    static func reply(_ body: [UInt8], requestedModel: String, includeReasoning: Bool = false) throws(GatewayError)
        -> ProviderReply
    {
        guard let json = try? JSONParser.parse(body), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a Gemini response.")
        }
        let candidates = object["candidates"]?.arrayValue ?? []
        if candidates.isEmpty {
            // A blocked prompt is an error, not an empty answer: that is what OpenAI does with a
            // flagged prompt, it lets the router use content_policy_fallbacks, and it is LiteLLM's choice.
            if let reason = blockReason(object) { throw blocked(reason) }
            throw .badUpstreamResponse("The upstream's Gemini response has no candidates.")
        }
        var choices: [JSONValue] = []
        var finishReasons: [String] = []
        for (position, candidate) in candidates.enumerated() {
            var text = ""
            var reasoning = ""
            var toolCalls: [JSONValue] = []
            for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                switch try Part(part) {
                case .text(let value)?: text += value
                case .thought(let value)?: reasoning += value
                case .functionCall(let name, let arguments, let id)?:
                    toolCalls.append(.object(CanonicalToolCall.json(id: .string(id), name: .string(name), arguments: arguments)))
                case nil: break
                }
            }
            let finish = finishReason(candidate["finishReason"]?.stringValue, sawToolCall: !toolCalls.isEmpty) ?? "stop"
            let message = CanonicalCompletion.message(
                text: text, toolCalls: toolCalls, reasoning: includeReasoning ? reasoning : nil)
            choices.append(
                CanonicalCompletion.choice(index: candidate["index"]?.intValue ?? position, message: message, finish: finish))
            finishReasons.append(finish)
        }
        let model = object["modelVersion"]?.stringValue ?? requestedModel
        return CanonicalCompletion.reply(
            id: .string(object["responseId"]?.stringValue ?? RequestTranslation.makeID("chatcmpl-")),
            model: .string(model), responseModel: model, choices: choices,
            usage: object["usageMetadata"].flatMap(Self.usage), reported: reportedUsage, finishReasons: finishReasons)
    }

    /// One content part, in the terms OpenAI has for it.
    enum Part {
        case text(String)
        /// Thought summaries (`thought: true`), returned only when asked for with `includeThoughts`.
        case thought(String)
        /// Gemini sends function calls whole, with `args` as an object; `arguments` is its compact
        /// JSON, and `id` carries the call's thought signature if it had one.
        case functionCall(name: String, arguments: String, id: String)

        /// Nil for parts OpenAI has no field for (inline images, executable code, signatures alone).
        init?(_ part: JSONValue) throws(GatewayError) {
            if let call = part["functionCall"] {
                guard let name = call["name"]?.stringValue, !name.isEmpty else {
                    throw .badUpstreamResponse("The upstream sent a Gemini function call without a name.")
                }
                let args = call["args"] ?? .object([:])
                guard args.objectValue != nil || args.isNull else {
                    throw .badUpstreamResponse("The upstream sent Gemini function call arguments that are not an object.")
                }
                let arguments = args.isNull ? "{}" : args.encodedString()
                let id = call["id"]?.stringValue ?? RequestTranslation.makeID("call_")
                self = .functionCall(
                    name: name, arguments: arguments,
                    id: ThoughtSignature.attach(part["thoughtSignature"]?.stringValue, to: id))
            } else if let text = part["text"]?.stringValue {
                self = part["thought"]?.boolValue == true ? .thought(text) : .text(text)
            } else {
                return nil
            }
        }
    }

    /// Gemini has no tool-call finish reason: STOP with function calls means `tool_calls`.
    /// Nil while a streamed candidate is still going.
    static func finishReason(_ reason: String?, sawToolCall: Bool) -> String? {
        guard let reason else { return nil }
        switch reason {
        case "MAX_TOKENS", "CONTINUATION":
            return "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "NO_IMAGE", "MODEL_ARMOR",
            "ESCALATION", "OTHER":
            return "content_filter"
        case _ where reason.hasPrefix("IMAGE_"):
            return "content_filter"
        default:
            // STOP, and the malformed-call family, which OpenAI can only call a stop.
            return sawToolCall ? "tool_calls" : "stop"
        }
    }

    /// Gemini reports cached tokens and thoughts.
    static let reportedUsage: CanonicalUsage.Details = [.cachedTokens, .reasoningTokens]

    /// `promptTokenCount` already includes cached tokens; thoughts are not in `candidatesTokenCount`,
    /// except on models whose total shows they are (LiteLLM checks the same way).
    static func usage(_ metadata: JSONValue) -> Usage? {
        guard metadata.objectValue != nil else { return nil }
        let prompt = (metadata["promptTokenCount"]?.tokenCount ?? 0) + (metadata["toolUsePromptTokenCount"]?.tokenCount ?? 0)
        let candidates = metadata["candidatesTokenCount"]?.tokenCount ?? 0
        let thoughts = metadata["thoughtsTokenCount"]?.tokenCount ?? 0
        let thoughtsIncluded = thoughts > 0 && metadata["totalTokenCount"]?.tokenCount == prompt + candidates
        return Usage(
            inputTokens: prompt, outputTokens: thoughtsIncluded ? candidates : candidates + thoughts,
            cacheReadTokens: metadata["cachedContentTokenCount"]?.tokenCount ?? 0, reasoningTokens: thoughts)
    }

    static func blockReason(_ response: JSONObject) -> String? {
        response["promptFeedback"]?["blockReason"]?.stringValue
    }

    static func blocked(_ reason: String) -> GatewayError {
        .contentPolicyViolation("Gemini blocked the prompt (blockReason \(reason)).")
    }
}

/// Gemini 3 refuses a function call sent back without the `thoughtSignature` it came with
/// (https://ai.google.dev/gemini-api/docs/thought-signatures), and OpenAI's format has no field for it. So it travels in the tool-call id
/// after a separator (LiteLLM's convention, so histories move between the two gateways) and is
/// split off when the call comes back in the next request. Nothing is kept on the server.
enum ThoughtSignature {
    static let separator = "__thought__"
    /// Google's documented stand-in for a call that has no signature (history from another model).
    static let placeholder = "skip_thought_signature_validator"

    static func attach(_ signature: String?, to id: String) -> String {
        guard let signature, !signature.isEmpty else { return id }
        return id + separator + signature
    }

    static func signature(in id: String) -> String? {
        guard let range = id.range(of: separator) else { return nil }
        let signature = id[range.upperBound...]
        return signature.isEmpty ? nil : String(signature)
    }
}
