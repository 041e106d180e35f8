import Foundation
import Telemetry

/// The members every `chat.completion.chunk` of one translated stream repeats (id, created,
/// model), and the chunks built on them, so that every provider's stream reaches the client in the
/// same shape. https://platform.openai.com/docs/api-reference/chat-streaming/streaming
struct ChunkEnvelope: Sendable {
    var id: JSONValue
    var model: JSONValue
    var created: Int

    init(id: JSONValue = .null, model: JSONValue = .null, created: Int = Int(Date().timeIntervalSince1970)) {
        self.id = id
        self.model = model
        self.created = created
    }

    /// A chunk with one choice's `delta` (and its finish reason, on the last one).
    func delta(_ delta: JSONObject, choice: Int = 0, finish: String? = nil) -> StreamChunk {
        chunk(
            choices: [
                .object([
                    "index": .int(choice), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null,
                ])
            ])
    }

    /// The role chunk that opens a choice.
    func start(choice: Int = 0) -> StreamChunk {
        delta(["role": "assistant", "content": ""], choice: choice)
    }

    /// A delta carrying one tool call (its start, or the next fragment of its arguments).
    func toolCall(_ call: JSONObject, choice: Int = 0) -> StreamChunk {
        delta(["tool_calls": .array([.object(call)])], choice: choice)
    }

    /// The usage-only chunk OpenAI sends after the finish chunk: `choices` empty.
    func usage(_ usage: Usage, reported: CanonicalUsage.Details) -> StreamChunk {
        chunk(choices: [], usage: CanonicalUsage.json(usage, reported: reported))
    }

    private func chunk(choices: [JSONValue], usage: JSONValue? = nil) -> StreamChunk {
        var object: JSONObject = [
            "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": model,
            "choices": .array(choices),
        ]
        if let usage { object["usage"] = usage }
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }
}

extension StreamChunk {
    /// A failure after the stream started, as the OpenAI-shaped error event clients expect; the
    /// stream ends after it.
    static func error(_ error: GatewayError) -> StreamChunk {
        let body = error.body
        return .chunk(body.objectValue ?? JSONObject(), raw: body.encoded())
    }
}

extension StreamChunk {
    /// A provider's own words for a failure partway through its stream (Cohere's
    /// `message-end.delta.error`, an Ollama `{"error"}` line). The text may quote the prompt, so
    /// key-shaped strings are scrubbed from it.
    static func midStreamFailure(provider: String, _ text: String) -> StreamChunk {
        let message = SecretRedactor.scrub("\(provider) failed mid-stream: \(text)")
        return .error(
            UpstreamErrorText.isContextWindowExceeded(text)
                ? .contextWindowExceeded(message)
                : .upstream(clientStatus: 502, message, detail: .init(code: "internal_error")))
    }
}
