import NIOCore
import Telemetry

/// Ollama's NDJSON chat stream as OpenAI chunks (providers.md §8.2). Each line is a whole object;
/// tool calls arrive whole, so each becomes one chunk with its arguments filled in. The stream must
/// end with its `done: true` line: a connection that closes before it is a broken stream.
struct OllamaStreamDecoder: ChatStreamDecoder {
    let emitsReasoningContent: Bool
    private var lines = NDJSONDecoder()
    /// Ollama streams carry no id; one is made up for the whole stream.
    private let id: JSONValue = .string(RequestTranslation.makeID("chatcmpl-"))
    private var model: JSONValue = .null
    private var created: Int?
    private var toolCallCount = 0
    private var ended = false

    init(emitsReasoningContent: Bool) {
        self.emitsReasoningContent = emitsReasoningContent
    }

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        let completed = try lines.feed(buffer.readableBytesView)
        var chunks: [StreamChunk] = []
        for line in completed { chunks += try translate(line) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        var chunks: [StreamChunk] = []
        if let line = lines.finish() { chunks = try translate(line) }
        guard ended else {
            throw .badUpstreamResponse("The upstream stream ended before Ollama's final (done) line.")
        }
        return chunks
    }

    private mutating func translate(_ line: [UInt8]) throws(GatewayError) -> [StreamChunk] {
        guard !ended else { return [] }
        guard let json = try? JSONParser.parse(line), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent a line that is not a JSON object.")
        }
        // Checked first, as Ollama's own client does: an error line carries nothing else.
        if let error = object["error"], !error.isNull {
            ended = true
            return [errorChunk(error.stringValue ?? error["message"]?.stringValue ?? "unknown error")]
        }
        var chunks: [StreamChunk] = []
        if created == nil {
            created = OllamaAdapter.created(object["created_at"])
            model = object["model"] ?? .null
            chunks.append(chunk(delta: ["role": "assistant", "content": ""]))
        }
        let message = object["message"]
        if emitsReasoningContent, let thinking = message?["thinking"]?.stringValue, !thinking.isEmpty {
            chunks.append(chunk(delta: ["reasoning_content": .string(thinking)]))
        }
        if let text = message?["content"]?.stringValue, !text.isEmpty {
            chunks.append(chunk(delta: ["content": .string(text)]))
        }
        let calls = try OllamaAdapter.toolCalls(message?["tool_calls"], firstIndex: toolCallCount)
        toolCallCount += calls.count
        for call in calls {
            chunks.append(chunk(delta: ["tool_calls": .array([.object(call)])]))
        }
        if object["done"]?.boolValue == true {
            ended = true
            let finish = OllamaAdapter.finishReason(object["done_reason"]?.stringValue, sawToolCall: toolCallCount > 0)
            chunks.append(chunk(delta: [:], finish: finish))
            if let usage = OllamaAdapter.usage(object) {
                let usageChunk = envelope(["choices": .array([]), "usage": OllamaAdapter.openAIUsage(usage)])
                chunks.append(.chunk(usageChunk, raw: JSONValue.object(usageChunk).encoded()))
            }
            chunks.append(.done)
        }
        return chunks
    }

    /// A failure after the stream started, as the OpenAI-shaped error event clients expect
    /// (providers.md §9.4). Ollama's text may quote the prompt, so key-shaped strings are scrubbed.
    private func errorChunk(_ text: String) -> StreamChunk {
        let message = SecretRedactor.scrub("Ollama failed mid-stream: \(text)")
        let error =
            UpstreamErrorText.isContextWindowExceeded(text)
            ? GatewayError.contextWindowExceeded(message)
            : GatewayError(status: 502, type: "api_error", message: message, code: "internal_error", errorType: "internal_error")
        let object = error.body.objectValue ?? JSONObject()
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }

    private func chunk(delta: JSONObject, finish: String? = nil) -> StreamChunk {
        let object = envelope([
            "choices": .array([.object([
                "index": .int(0), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null,
            ])])
        ])
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }

    private func envelope(_ members: JSONObject) -> JSONObject {
        var object: JSONObject = [
            "id": id, "object": "chat.completion.chunk", "created": .int(created ?? 0), "model": model,
        ]
        for member in members.members { object[member.key] = member.value }
        return object
    }
}
