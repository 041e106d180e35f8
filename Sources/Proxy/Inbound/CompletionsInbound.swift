import Telemetry

/// The legacy Completions format on the way in (`POST /v1/completions`), for deployments that only
/// speak Chat Completions: a completions request becomes a one-message chat request, and the chat
/// answer becomes a `text_completion`. Errors need no translation: both APIs share OpenAI's error
/// shape.
enum CompletionsInbound {
    /// The four shapes `prompt` may take.
    enum Prompt: Equatable {
        case text(String)
        case texts([String])
        case tokens
        case tokenLists
    }

    /// Field types and ranges as OpenAI checks them, so that a bad request is refused here with the
    /// field named, whichever deployment would have served it.
    static func validate(_ body: JSONObject) throws(GatewayError) {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' is required.", param: "model")
        }
        guard let prompt = body["prompt"], !prompt.isNull else {
            throw .invalidRequest("'prompt' is required.", param: "prompt")
        }
        guard Self.prompt(prompt) != nil else {
            throw .invalidRequest(
                "'prompt' must be a string, or a non-empty array of strings, of token ids or of token-id arrays.",
                param: "prompt")
        }
        try integer("max_tokens", in: body, atLeast: 0)
        try integer("n", in: body, atLeast: 1)
        try integer("logprobs", in: body, atLeast: 0, atMost: 5)
        try integer("best_of", in: body, atLeast: 0)
        try integer("seed", in: body)
        try number("temperature", in: body, 0...2)
        try number("top_p", in: body, 0...1)
        try number("presence_penalty", in: body, -2...2)
        try number("frequency_penalty", in: body, -2...2)
        for name in ["echo", "stream"] {
            if let value = body[name], !value.isNull, value.boolValue == nil {
                throw .invalidRequest("'\(name)' must be a boolean.", param: name)
            }
        }
        for name in ["suffix", "user"] {
            if let value = body[name], !value.isNull, value.stringValue == nil {
                throw .invalidRequest("'\(name)' must be a string.", param: name)
            }
        }
        if let options = body["stream_options"], !options.isNull {
            guard options.objectValue != nil else {
                throw .invalidRequest("'stream_options' must be an object.", param: "stream_options")
            }
            if let include = options["include_usage"], !include.isNull, include.boolValue == nil {
                throw .invalidRequest(
                    "'stream_options.include_usage' must be a boolean.", param: "stream_options.include_usage")
            }
        }
        if let stop = body["stop"], !stop.isNull, stop.stringValue == nil,
            stop.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true
        {
            throw .invalidRequest("'stop' must be a string or an array of strings.", param: "stop")
        }
        if let bias = body["logit_bias"], !bias.isNull, bias.objectValue == nil {
            throw .invalidRequest("'logit_bias' must be an object.", param: "logit_bias")
        }
    }

    /// The shape of a `prompt`, nil when it has none of the four (an empty array included).
    static func prompt(_ value: JSONValue) -> Prompt? {
        if let text = value.stringValue { return .text(text) }
        guard let items = value.arrayValue, !items.isEmpty else { return nil }
        let texts = items.compactMap(\.stringValue)
        if texts.count == items.count { return .texts(texts) }
        if items.allSatisfy({ $0.intValue != nil }) { return .tokens }
        let lists = items.allSatisfy { item in
            guard let ids = item.arrayValue, !ids.isEmpty else { return false }
            return ids.allSatisfy { $0.intValue != nil }
        }
        return lists ? .tokenLists : nil
    }

    /// A completions request as an OpenAI chat request. Checks the body first (`validate`). What a
    /// chat model cannot do (several prompts, token ids, `suffix`, `best_of`) is refused, not
    /// approximated; `echo` is done on the way back (`completion(fromChat:echo:)`).
    static func chatRequest(from body: JSONObject) throws(GatewayError) -> JSONObject {
        try validate(body)
        let content: String
        switch prompt(body["prompt"] ?? .null) {
        case .text(let text):
            content = text
        case .texts(let texts):
            guard let only = texts.first, texts.count == 1 else {
                throw needsNativeEndpoint("Several prompts in one request", param: "prompt")
            }
            content = only
        case .tokens, .tokenLists:
            throw needsNativeEndpoint("A prompt of token ids", param: "prompt")
        case nil:
            throw .invalidRequest("'prompt' is required.", param: "prompt")
        }
        if let suffix = body["suffix"]?.stringValue, !suffix.isEmpty {
            throw needsNativeEndpoint("'suffix'", param: "suffix")
        }
        if let bestOf = body["best_of"]?.intValue, bestOf > 1 {
            throw needsNativeEndpoint("'best_of' above 1", param: "best_of")
        }
        var out: JSONObject = [
            "model": body["model"] ?? .null,
            "messages": .array([.object(["role": "user", "content": .string(content)])]),
        ]
        for name in [
            "max_tokens", "temperature", "top_p", "n", "stop", "presence_penalty", "frequency_penalty", "logit_bias", "seed",
            "user",
        ] {
            if let value = body[name], !value.isNull { out[name] = value }
        }
        if let logprobs = body["logprobs"]?.intValue {
            out["logprobs"] = true
            out["top_logprobs"] = .int(logprobs)
        }
        // OpenAI refuses `stream_options` without `stream`; with it, usage is always asked for so the
        // gateway can count tokens, and the encoder drops it again unless the client asked too.
        if body["stream"]?.boolValue == true {
            var options = body["stream_options"]?.objectValue ?? [:]
            options["include_usage"] = true
            out["stream"] = true
            out["stream_options"] = .object(options)
        }
        return out
    }

    /// The text `echo: true` puts before each choice's completion: the prompt, when it is one string.
    static func echoPrefix(of body: JSONObject) -> String? {
        guard body["echo"]?.boolValue == true else { return nil }
        switch prompt(body["prompt"] ?? .null) {
        case .text(let text): return text
        case .texts(let texts) where texts.count == 1: return texts.first
        default: return nil
        }
    }

    /// An OpenAI `chat.completion` as a `text_completion`; `echo` goes before each choice's text.
    static func completion(fromChat chat: JSONValue, echo: String?) -> JSONValue {
        var out = header(of: chat)
        let start = echo?.unicodeScalars.count ?? 0
        out["choices"] = .array(
            (chat["choices"]?.arrayValue ?? []).enumerated().map { position, choice in
                Self.choice(
                    text: (echo ?? "") + (choice["message"]?["content"]?.stringValue ?? ""),
                    index: choice["index"] ?? .int(position),
                    logprobs: logprobs(fromChat: choice["logprobs"], offset: start).value,
                    finish: choice["finish_reason"])
            })
        if let usage = chat["usage"] { out["usage"] = usage }
        return .object(out)
    }

    /// `id`, `object`, `created`, `model` and `system_fingerprint` of a chat answer or chunk, in
    /// completions terms.
    static func header(of chat: JSONValue) -> JSONObject {
        var out: JSONObject = [
            "id": completionID(chat["id"]), "object": "text_completion", "created": chat["created"] ?? .null,
            "model": chat["model"] ?? .null,
        ]
        if let fingerprint = chat["system_fingerprint"], !fingerprint.isNull { out["system_fingerprint"] = fingerprint }
        return out
    }

    static func choice(text: String, index: JSONValue, logprobs: JSONValue, finish: JSONValue?) -> JSONValue {
        .object([
            "text": .string(text), "index": index, "logprobs": logprobs, "finish_reason": finishReason(finish),
        ])
    }

    /// `chatcmpl-X` becomes `cmpl-X`; an id of another form gets the prefix.
    static func completionID(_ id: JSONValue?) -> JSONValue {
        guard let text = id?.stringValue else { return id ?? .null }
        if text.hasPrefix("chatcmpl-") { return .string("cmpl-" + String(text.dropFirst("chatcmpl-".count))) }
        return .string(text.hasPrefix("cmpl-") ? text : "cmpl-" + text)
    }

    /// The completions enum has no tool-call reasons: a model that called a tool has stopped.
    static func finishReason(_ finish: JSONValue?) -> JSONValue {
        switch finish?.stringValue {
        case "tool_calls", "function_call": "stop"
        case let value?: .string(value)
        case nil: .null
        }
    }

    /// Chat logprobs (`content:[{token,logprob,bytes,top_logprobs:[…]}]`) in the completions shape
    /// (`tokens`, `token_logprobs`, `top_logprobs` as `{token: logprob}` maps holding the chosen token
    /// too, `text_offset`). Offsets count characters from `offset`; the end offset is returned for
    /// the next piece of a stream.
    static func logprobs(fromChat logprobs: JSONValue?, offset start: Int) -> (value: JSONValue, end: Int) {
        guard let content = logprobs?["content"]?.arrayValue else { return (.null, start) }
        var tokens: [JSONValue] = []
        var tokenLogprobs: [JSONValue] = []
        var top: [JSONValue] = []
        var offsets: [JSONValue] = []
        var offset = start
        for entry in content {
            let token = entry["token"]?.stringValue ?? ""
            let logprob = entry["logprob"] ?? .null
            var alternatives: JSONObject = [:]
            for alternative in entry["top_logprobs"]?.arrayValue ?? [] {
                if let text = alternative["token"]?.stringValue { alternatives[text] = alternative["logprob"] ?? .null }
            }
            if !alternatives.keys.contains(token) { alternatives[token] = logprob }
            tokens.append(.string(token))
            tokenLogprobs.append(logprob)
            top.append(.object(alternatives))
            offsets.append(.int(offset))
            offset += token.unicodeScalars.count
        }
        return (
            .object([
                "tokens": .array(tokens), "token_logprobs": .array(tokenLogprobs), "top_logprobs": .array(top),
                "text_offset": .array(offsets),
            ]), offset
        )
    }

    static func needsNativeEndpoint(_ what: String, param: String) -> GatewayError {
        .invalidRequest("\(what) needs a deployment with a native completions endpoint.", param: param)
    }

    private static func integer(
        _ name: String, in body: JSONObject, atLeast minimum: Int? = nil, atMost maximum: Int? = nil
    ) throws(GatewayError) {
        guard let value = body[name], !value.isNull else { return }
        guard let number = value.intValue else { throw .invalidRequest("'\(name)' must be an integer.", param: name) }
        if let minimum, number < minimum {
            throw .invalidRequest("'\(name)' must be at least \(minimum).", param: name)
        }
        if let maximum, number > maximum {
            throw .invalidRequest("'\(name)' must be at most \(maximum).", param: name)
        }
    }

    private static func number(_ name: String, in body: JSONObject, _ range: ClosedRange<Double>) throws(GatewayError) {
        guard let value = body[name], !value.isNull else { return }
        guard let number = value.doubleValue else { throw .invalidRequest("'\(name)' must be a number.", param: name) }
        guard range.contains(number) else {
            throw .invalidRequest(
                "'\(name)' must be between \(JSONValue.double(range.lowerBound).encodedString()) and "
                    + "\(JSONValue.double(range.upperBound).encodedString()).", param: name)
        }
    }
}
