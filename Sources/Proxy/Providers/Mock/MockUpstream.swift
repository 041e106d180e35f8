import NIOCore
import NIOHTTP1
import Telemetry

/// A deterministic OpenAI-compatible upstream with no network: the `mock/` provider, the
/// `spanway mock-upstream` server, tests and benchmarks all use it.
///
/// It speaks OpenAI (`/chat/completions`, `/embeddings`, `/models`, `/responses`, `/completions`,
/// `/images/generations`, `/audio/*`, `/moderations`), Cohere (`/rerank`, `/v2/rerank`) and
/// Anthropic (`/messages`).
/// Behaviour comes from the model name: `error-401`, `error-429`, `error-500`, `error-503`,
/// `error-ctx` (context window), `error-policy` (content policy), `garbage` (a 200 whose body is not JSON), `cutoff` (a stream that
/// stops after a few words, without its end), `slow-<ms>` (delay
/// before answering), `drip-<ms>` (delay between stream chunks), `long` (a 200-word answer).
public struct MockUpstream: Sendable {
    public static let text = "Spanway mock says hello: naïve café ☕ 日本語."

    /// Sees every request it answers (for tests).
    public var onRequest: (@Sendable (UpstreamRequest) -> Void)?
    /// Told when a stream ended because its reader went away.
    public var onStreamAbandoned: (@Sendable () -> Void)?

    public init(
        onRequest: (@Sendable (UpstreamRequest) -> Void)? = nil, onStreamAbandoned: (@Sendable () -> Void)? = nil
    ) {
        self.onRequest = onRequest
        self.onStreamAbandoned = onStreamAbandoned
    }

    public func respond(to request: UpstreamRequest) async throws -> UpstreamResponse {
        onRequest?(request)
        let path = request.url.split(separator: "?").first.map(String.init) ?? request.url
        if request.method == .GET && path.hasSuffix("/models") {
            return Self.json(200, .object(["object": "list", "data": .array([])]))
        }
        if request.method == .DELETE, let id = path.components(separatedBy: "/responses/").last, !id.contains("/") {
            return Self.json(200, .object(["id": .string(id), "object": "response", "deleted": true]))
        }
        guard request.method == .POST else { return Self.error(405, "method not allowed", type: "invalid_request_error") }
        if let answer = try await multipartAnswer(request, path: path) { return answer }
        guard let body = try? JSONParser.parse(request.body).objectValue else {
            return Self.error(400, "body is not a JSON object", type: "invalid_request_error")
        }
        let model = body["model"]?.stringValue ?? "mock"
        if let scripted = try await Self.scripted(model) { return scripted }
        if path.hasSuffix("/embeddings") { return embeddings(body, model: model) }
        if path.hasSuffix("/messages") { return anthropicMessages(body, model: model) }
        if path.hasSuffix("/chat/completions") { return chat(body, model: model) }
        if path.hasSuffix("/completions") { return completions(body, model: model) }
        if path.hasSuffix("/responses") { return responses(body, model: model) }
        if path.hasSuffix("/responses/input_tokens") { return responsesInputTokens(body) }
        if path.hasSuffix("/images/generations") { return imageGeneration(body, model: model) }
        if path.hasSuffix("/moderations") { return moderations(body, model: model) }
        if path.hasSuffix("/audio/speech") { return speech(body, model: model) }
        if path.hasSuffix("/rerank") { return rerank(body, model: model, path: path) }
        return Self.error(404, "no route \(path)", type: "invalid_request_error")
    }

    /// What the model's name asks of every route before it answers: a delay (`slow-<ms>`), an
    /// error (`error-…`), or a 200 that is not JSON (`garbage`).
    static func scripted(_ model: String) async throws -> UpstreamResponse? {
        if let ms = number(after: "slow-", in: model) {
            try await Task.sleep(for: .milliseconds(ms))
        }
        if let failure = failure(for: model) { return failure }
        guard model.contains("garbage") else { return nil }
        return UpstreamResponse(
            status: 200, headers: ["content-type": "application/json"], body: bytes([Array("<html>oops".utf8)]))
    }

    static func failure(for model: String) -> UpstreamResponse? {
        if model.contains("error-401") {
            return error(401, "Incorrect API key provided: sk-mock-bad.", type: "invalid_request_error", code: "invalid_api_key")
        }
        if model.contains("error-429") {
            return error(
                429, "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded",
                headers: ["retry-after": "1"])
        }
        if model.contains("error-500") {
            return error(500, "The server had an error while processing your request.", type: "server_error")
        }
        if model.contains("error-503") {
            return error(503, "The engine is currently overloaded.", type: "server_error")
        }
        if model.contains("error-policy") {
            return error(
                400, "Your request was rejected as a result of our safety system.", type: "invalid_request_error",
                code: "content_policy_violation", param: nil)
        }
        if model.contains("error-ctx") {
            return error(
                400, "This model's maximum context length is 8192 tokens.", type: "invalid_request_error",
                code: "context_length_exceeded", param: "messages")
        }
        return nil
    }

    /// `answer` replaces the model's words, with usage 0 (a client's `mock_response`).
    func chat(_ body: JSONObject, model: String, answer: String? = nil) -> UpstreamResponse {
        let words = answer.map { [$0] } ?? Self.words(for: model)
        let usage =
            answer == nil
            ? Usage(inputTokens: Self.countTokens(body["messages"]), outputTokens: words.count + 2)
            : Usage(inputTokens: 0, outputTokens: 0)
        let id: JSONValue = .string("chatcmpl-mock-\(Self.fingerprint(body))")
        guard body["stream"]?.boolValue == true else {
            let message = CanonicalCompletion.message(text: words.joined(separator: " "), toolCalls: [])
            let reply = CanonicalCompletion.reply(
                id: id, model: .string(model), responseModel: model,
                choices: [CanonicalCompletion.choice(message: message, finish: "stop")], usage: usage, reported: [],
                finishReasons: ["stop"], created: 1_700_000_000)
            return UpstreamResponse(status: 200, headers: ["content-type": "application/json"], body: Self.bytes([reply.body]))
        }
        let envelope = ChunkEnvelope(id: id, model: .string(model), created: 1_700_000_000)
        var chunks = [envelope.start()]
        for (i, word) in words.enumerated() {
            chunks.append(envelope.delta(["content": .string(i == 0 ? word : " " + word)]))
        }
        chunks.append(envelope.delta([:], finish: "stop"))
        if body["stream_options"]?["include_usage"]?.boolValue == true {
            chunks.append(envelope.usage(usage, reported: []))
        }
        chunks.append(.done)
        var frames = chunks.map { chunk in
            guard case .chunk(_, let raw) = chunk else { return Array("data: [DONE]\n\n".utf8) }
            return Array("data: ".utf8) + raw + Array("\n\n".utf8)
        }
        // `cutoff`: the connection closes after a few words, with no finish, usage or [DONE].
        if model.contains("cutoff") { frames = Array(frames.prefix(3)) }
        let drip = Self.number(after: "drip-", in: model)
        return UpstreamResponse(
            status: 200, headers: ["content-type": "text/event-stream"],
            body: drip.map { stream(frames, delay: .milliseconds($0)) } ?? Self.bytes(frames))
    }

    /// Anthropic's Messages format: the same words, usage with 5 cache-read tokens.
    func anthropicMessages(_ body: JSONObject, model: String) -> UpstreamResponse {
        let input = Self.countTokens(body["messages"])
        let words = Self.words(for: model)
        let output = words.count + 2
        let id = "msg_mock\(Self.fingerprint(body))"
        let usage: JSONValue = .object([
            "input_tokens": .int(input), "cache_creation_input_tokens": .int(0), "cache_read_input_tokens": .int(5),
            "output_tokens": .int(output),
        ])
        guard body["stream"]?.boolValue == true else {
            return Self.json(
                200,
                .object([
                    "id": .string(id), "type": "message", "role": "assistant", "model": .string(model),
                    "content": .array([.object(["type": "text", "text": .string(words.joined(separator: " "))])]),
                    "stop_reason": "end_turn", "stop_sequence": nil, "usage": usage,
                ]))
        }
        func event(_ name: String, _ data: JSONValue) -> [UInt8] {
            Array("event: \(name)\ndata: ".utf8) + data.encoded() + Array("\n\n".utf8)
        }
        var frames = [
            event(
                "message_start",
                .object([
                    "type": "message_start",
                    "message": .object([
                        "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": .array([]),
                        "usage": .object([
                            "input_tokens": .int(input), "cache_read_input_tokens": .int(5), "output_tokens": .int(1),
                        ]),
                    ]),
                ])),
            event(
                "content_block_start",
                .object([
                    "type": "content_block_start", "index": .int(0), "content_block": .object(["type": "text", "text": ""]),
                ])),
        ]
        for (i, word) in words.enumerated() {
            frames.append(
                event(
                    "content_block_delta",
                    .object([
                        "type": "content_block_delta", "index": .int(0),
                        "delta": .object(["type": "text_delta", "text": .string(i == 0 ? word : " " + word)]),
                    ])))
        }
        frames.append(event("content_block_stop", .object(["type": "content_block_stop", "index": .int(0)])))
        frames.append(
            event(
                "message_delta",
                .object([
                    "type": "message_delta", "delta": .object(["stop_reason": "end_turn"]),
                    "usage": .object(["output_tokens": .int(output)]),
                ])))
        frames.append(event("message_stop", .object(["type": "message_stop"])))
        return UpstreamResponse(status: 200, headers: ["content-type": "text/event-stream"], body: Self.bytes(frames))
    }

    func embeddings(_ body: JSONObject, model: String) -> UpstreamResponse {
        let inputs: [JSONValue] = body["input"]?.arrayValue ?? [body["input"] ?? .string("")]
        let data = inputs.enumerated().map { index, _ in
            JSONValue.object([
                "object": "embedding", "index": .int(index),
                "embedding": .array([.double(0.01 * Double(index + 1)), .double(-0.02), .double(0.03), .double(0.5)]),
            ])
        }
        let tokens = inputs.reduce(0) { $0 + max(1, ($1.stringValue?.count ?? 4) / 4) }
        return Self.json(
            200,
            .object([
                "object": "list", "data": .array(data), "model": .string(model),
                "usage": .object(["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)]),
            ]))
    }

    /// Frames sent one by one with a pause, noticing when the reader stops listening.
    func stream(_ frames: [[UInt8]], delay: Duration) -> AsyncThrowingStream<ByteBuffer, any Error> {
        let abandoned = onStreamAbandoned
        return AsyncThrowingStream { continuation in
            let task = Task {
                for frame in frames {
                    if case .terminated = continuation.yield(ByteBuffer(bytes: frame)) { return }
                    do {
                        try await Task.sleep(for: delay)
                    } catch {
                        return
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination {
                    task.cancel()
                    abandoned?()
                }
            }
        }
    }

    static func words(for model: String) -> [String] {
        let base = text.split(separator: " ").map(String.init)
        guard model.contains("long") else { return base }
        return (0..<200).map { base[$0 % base.count] }
    }

    /// About four characters a token, plus three a message: the conformance mock's estimate.
    static func countTokens(_ messages: JSONValue?) -> Int {
        var count = 0
        for message in messages?.arrayValue ?? [] {
            if let text = message["content"]?.stringValue {
                count += max(1, text.count / 4)
            } else if let parts = message["content"]?.arrayValue {
                for part in parts {
                    if let text = part["text"]?.stringValue { count += max(1, text.count / 4) }
                }
            }
            count += 3
        }
        return count
    }

    static func number(after prefix: String, in model: String) -> Int? {
        guard let range = model.range(of: prefix) else { return nil }
        return Int(model[range.upperBound...].prefix(while: \.isNumber))
    }

    /// A short id that is the same for the same request, so answers are reproducible.
    static func fingerprint(_ body: JSONObject) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in JSONValue.object(body).encoded() {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    static func json(_ status: Int, _ value: JSONValue, headers: HTTPHeaders = [:]) -> UpstreamResponse {
        var all = headers
        all.add(name: "content-type", value: "application/json")
        return UpstreamResponse(status: status, headers: all, body: bytes([value.encoded()]))
    }

    static func error(
        _ status: Int, _ message: String, type: String, code: String? = nil, param: String? = nil,
        headers: HTTPHeaders = [:]
    ) -> UpstreamResponse {
        json(
            status,
            .object([
                "error": .object([
                    "message": .string(message), "type": .string(type),
                    "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null,
                ])
            ]), headers: headers)
    }

    static func bytes(_ frames: [[UInt8]]) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            for frame in frames { continuation.yield(ByteBuffer(bytes: frame)) }
            continuation.finish()
        }
    }
}

/// The `mock` provider's transport: answers in-process, no socket.
public struct MockTransport: Transport {
    public let upstream: MockUpstream

    public init(upstream: MockUpstream = MockUpstream()) {
        self.upstream = upstream
    }

    public func send(_ request: UpstreamRequest, timeout: Duration) async throws -> UpstreamResponse {
        try await upstream.respond(to: request)
    }
}
