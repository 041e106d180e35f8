import Telemetry

/// A validated OpenAI request body. The client's JSON is kept as written (key order, numbers,
/// provider-specific fields) and forwarded with only the gateway's own changes.
public struct OpenAIRequest: Sendable {
    /// What a request asks for; one per endpoint family.
    public enum Operation: String, Sendable {
        case chat
        case embeddings
        /// OpenAI's Responses API (`/v1/responses`).
        case responses
        /// The legacy `/v1/completions`.
        case textCompletion = "text_completion"
        case imageGeneration = "image_generation"
        case audioSpeech = "audio_speech"
        case audioTranscription = "audio_transcription"
        case audioTranslation = "audio_translation"
        case rerank
        case moderation
    }

    public var operation: Operation
    /// The JSON body; for a multipart upload, its text fields.
    public var body: JSONObject
    public var model: String
    /// A multipart upload (audio transcriptions and translations), forwarded as slices of the
    /// client's body.
    public var form: MultipartForm?
    /// Set for a Responses request: its id, and the conversation it continues.
    public var responses: ResponsesTurn?
    /// Whether reasoning text goes back as `reasoning_content`: a de-facto extension (DeepSeek,
    /// vLLM, LiteLLM) that strict OpenAI clients may reject, so only when the client opts in.
    public var includeReasoning = false

    /// Whether the client asked for a stream (a form says it as text).
    public var stream: Bool { body["stream"]?.boolValue ?? (form != nil && body["stream"]?.stringValue == "true") }
    /// Whether the client asked for the usage chunk at the end of a stream.
    public var clientWantsStreamUsage: Bool { body["stream_options"]?["include_usage"]?.boolValue ?? false }

    /// Parses and checks the fields the gateway relies on, naming the field in every error.
    public init(operation: Operation, bytes: some Collection<UInt8>) throws(GatewayError) {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw .invalidRequest("Request body is not valid JSON: \(error.description).", code: "invalid_json")
        }
        guard let body = root.objectValue else {
            throw .invalidRequest("Request body must be a JSON object, found \(root.typeName).")
        }
        try self.init(operation: operation, body: body)
    }

    /// Checks the fields the gateway relies on of a body already parsed.
    public init(operation: Operation, body: JSONObject) throws(GatewayError) {
        self.operation = operation
        self.body = body
        self.model = try Self.require(body, "model", as: "a string", \.stringValue)
        guard !model.isEmpty else { throw .invalidRequest("'model' must not be empty.", param: "model") }
        for field in ["api_base", "base_url", "api_key"] where body[field] != nil {
            throw .invalidRequest(
                "'\(field)' cannot be set by a client: upstreams are chosen by the gateway's configuration.",
                param: field)
        }
        switch operation {
        case .chat: try validateChat()
        case .embeddings: try validateEmbeddings()
        case .responses: try ResponsesInbound.validate(body)
        case .textCompletion: try CompletionsInbound.validate(body)
        case .imageGeneration, .audioSpeech, .rerank, .moderation:
            try EndpointRequests.validate(operation, body)
        case .audioTranscription, .audioTranslation:
            throw .invalidRequest("'\(operation.endpoint)' takes a multipart/form-data upload, not JSON.", param: "file")
        }
    }

    /// An audio upload (`multipart/form-data`): its text fields become `body`; the file stays in
    /// the client's buffer.
    public init(operation: Operation, form: MultipartForm) throws(GatewayError) {
        guard let file = form.parts.first(where: { $0.name == "file" }), file.filename != nil else {
            throw .invalidRequest("'file' is required: an audio file sent as a multipart file part.", param: "file")
        }
        guard file.body.readableBytes > 0 else { throw .invalidRequest("'file' is empty.", param: "file") }
        var fields = JSONObject()
        for part in form.parts where part.filename == nil {
            let text = String(decoding: part.body.readableBytesView, as: UTF8.self)
            if part.name.hasSuffix("[]") {
                let name = String(part.name.dropLast(2))
                fields[name] = .array((fields[name]?.arrayValue ?? []) + [.string(text)])
            } else {
                fields[part.name] = .string(text)
            }
        }
        self.operation = operation
        self.body = fields
        self.form = form
        self.model = try Self.require(fields, "model", as: "a string", \.stringValue)
        guard !model.isEmpty else { throw .invalidRequest("'model' must not be empty.", param: "model") }
        if fields["stream"]?.stringValue == "true" && !operation.streams {
            throw .invalidRequest("Streaming is not supported on \(operation.endpoint).", param: "stream")
        }
    }

    private func validateChat() throws(GatewayError) {
        let messages = try Self.require(body, "messages", as: "an array", \.arrayValue)
        guard !messages.isEmpty else {
            throw .invalidRequest("'messages' must contain at least one message.", param: "messages")
        }
        for (index, message) in messages.enumerated() {
            guard let object = message.objectValue else {
                throw .invalidRequest(
                    "'messages[\(index)]' must be an object, found \(message.typeName).", param: "messages[\(index)]")
            }
            guard object["role"]?.stringValue != nil else {
                throw .invalidRequest("'messages[\(index)].role' must be a string.", param: "messages[\(index)].role")
            }
        }
        try Self.optional(body, "stream", as: "a boolean", \.boolValue)
        try Self.optional(body, "stream_options", as: "an object", \.objectValue)
        try Self.optional(
            body["stream_options"]?.objectValue, "include_usage", as: "a boolean", \.boolValue,
            prefix: "stream_options.")
        for field in ["temperature", "top_p", "frequency_penalty", "presence_penalty"] {
            try Self.optional(body, field, as: "a number", \.doubleValue)
        }
        for field in ["max_tokens", "max_completion_tokens", "n", "seed"] {
            try Self.optional(body, field, as: "an integer", \.intValue)
        }
        if let n = body["n"]?.intValue, n < 1 {
            throw .invalidRequest("'n' must be at least 1.", param: "n")
        }
        if let stop = body["stop"], !stop.isNull, stop.stringValue == nil,
            stop.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true
        {
            throw .invalidRequest("'stop' must be a string or an array of strings.", param: "stop")
        }
    }

    private func validateEmbeddings() throws(GatewayError) {
        guard let input = body["input"] else {
            throw .invalidRequest("'input' is required.", param: "input")
        }
        switch input {
        case .string: break
        case .array(let items) where !items.isEmpty:
            let strings = items.allSatisfy { $0.stringValue != nil }
            let tokens = items.allSatisfy { $0.intValue != nil || $0.arrayValue != nil }
            guard strings || tokens else {
                throw .invalidRequest("'input' must be a string, an array of strings or of token arrays.", param: "input")
            }
        default:
            throw .invalidRequest("'input' must be a non-empty string or array, found \(input.typeName).", param: "input")
        }
    }

    @discardableResult
    static func require<T>(
        _ body: JSONObject, _ field: String, as expected: String, _ get: (JSONValue) -> T?
    ) throws(GatewayError) -> T {
        guard let value = body[field] else { throw .invalidRequest("'\(field)' is required.", param: field) }
        guard let typed = get(value) else {
            throw .invalidRequest("'\(field)' must be \(expected), found \(value.typeName).", param: field)
        }
        return typed
    }

    static func optional<T>(
        _ body: JSONObject?, _ field: String, as expected: String, _ get: (JSONValue) -> T?, prefix: String = ""
    ) throws(GatewayError) {
        guard let value = body?[field], !value.isNull else { return }
        guard get(value) != nil else {
            throw .invalidRequest(
                "'\(prefix)\(field)' must be \(expected), found \(value.typeName).",
                param: prefix + field)
        }
    }

    /// The `gen_ai.request.*` attributes this request sets.
    public var spanAttributes: [(String, AttributeValue?)] {
        var pairs: [(String, AttributeValue?)] = []
        if let v = (body["max_completion_tokens"] ?? body["max_tokens"] ?? body["max_output_tokens"])?.intValue {
            pairs.append((AttributeName.requestMaxTokens, .int(Int64(v))))
        }
        let doubles = [
            ("temperature", AttributeName.requestTemperature), ("top_p", AttributeName.requestTopP),
            ("frequency_penalty", AttributeName.requestFrequencyPenalty),
            ("presence_penalty", AttributeName.requestPresencePenalty),
        ]
        for (field, name) in doubles {
            if let v = body[field]?.doubleValue { pairs.append((name, .double(v))) }
        }
        if let seed = body["seed"]?.intValue { pairs.append((AttributeName.requestSeed, .int(Int64(seed)))) }
        if let n = body["n"]?.intValue, n != 1 { pairs.append((AttributeName.requestChoiceCount, .int(Int64(n)))) }
        if let stop = body["stop"] {
            let values = stop.stringValue.map { [$0] } ?? stop.arrayValue?.compactMap(\.stringValue)
            if let values { pairs.append((AttributeName.requestStopSequences, .stringArray(values))) }
        }
        if stream { pairs.append((AttributeName.requestStream, .bool(true))) }
        return pairs
    }
}
