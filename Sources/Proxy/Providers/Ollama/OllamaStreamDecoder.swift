import NIOCore
import Telemetry

/// Ollama's NDJSON chat stream as OpenAI chunks.
/// https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
/// Each line is a whole object; tool calls arrive whole, so each becomes one chunk with its
/// arguments filled in. The stream must end with its `done: true` line: a connection that closes
/// before it is a broken stream.
struct OllamaStreamDecoder: FramedStreamDecoder {
    let emitsReasoningContent: Bool
    var framing = NDJSONDecoder()
    /// Ollama streams carry no id; one is made up for the whole stream. `created` and `model`
    /// come from the first line.
    private var envelope = ChunkEnvelope(id: .string(RequestTranslation.makeID("chatcmpl-")), created: 0)
    private var sawFirstLine = false
    private var toolCallCount = 0
    private var ended = false

    init(emitsReasoningContent: Bool) {
        self.emitsReasoningContent = emitsReasoningContent
    }

    func checkComplete() throws(GatewayError) {
        guard ended else {
            throw .badUpstreamResponse("The upstream stream ended before Ollama's final (done) line.")
        }
    }

    mutating func translate(_ line: [UInt8]) throws(GatewayError) -> [StreamChunk] {
        guard !ended else { return [] }
        guard let json = try? JSONParser.parse(line), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent a line that is not a JSON object.")
        }
        // Checked first, as Ollama's own client does: an error line carries nothing else.
        if let error = object["error"], !error.isNull {
            ended = true
            return [.midStreamFailure(provider: "Ollama", error.stringValue ?? error["message"]?.stringValue ?? "unknown error")]
        }
        var chunks: [StreamChunk] = []
        if !sawFirstLine {
            sawFirstLine = true
            envelope.created = OllamaAdapter.created(object["created_at"])
            envelope.model = object["model"] ?? .null
            chunks.append(envelope.start())
        }
        let message = object["message"]
        if emitsReasoningContent, let thinking = message?["thinking"]?.stringValue, !thinking.isEmpty {
            chunks.append(envelope.delta(["reasoning_content": .string(thinking)]))
        }
        if let text = message?["content"]?.stringValue, !text.isEmpty {
            chunks.append(envelope.delta(["content": .string(text)]))
        }
        let calls = try OllamaAdapter.toolCalls(message?["tool_calls"], firstIndex: toolCallCount)
        toolCallCount += calls.count
        for call in calls { chunks.append(envelope.toolCall(call)) }
        if object["done"]?.boolValue == true {
            ended = true
            let finish = OllamaAdapter.finishReason(object["done_reason"]?.stringValue, sawToolCall: toolCallCount > 0)
            chunks.append(envelope.delta([:], finish: finish))
            if let usage = OllamaAdapter.usage(object) {
                chunks.append(envelope.usage(usage, reported: OllamaAdapter.reportedUsage))
            }
            chunks.append(.done)
        }
        return chunks
    }
}
