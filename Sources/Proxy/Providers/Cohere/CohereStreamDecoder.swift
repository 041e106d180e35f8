import Foundation
import NIOCore
import Telemetry

/// Cohere's v2 chat stream (SSE, the event type repeated in each JSON's `type`) as OpenAI chunks
/// (providers.md §7.4). The tool plan is streamed as content; tool calls are numbered in the order
/// they start. The stream must end with `message-end`: a connection that closes before it is a
/// broken stream, not a finished answer.
struct CohereStreamDecoder: ChatStreamDecoder {
    let emitsReasoningContent: Bool
    private var sse = SSEDecoder()
    private var id: JSONValue = .null
    private let created = Int(Date().timeIntervalSince1970)
    private var sentRole = false
    private var sentContent = false
    /// Cohere's tool-call `index` → OpenAI's, and whether any argument fragment came for it.
    private var toolOrdinals: [Int: Int] = [:]
    private var toolsWithArguments: Set<Int> = []
    private var ended = false

    init(emitsReasoningContent: Bool) {
        self.emitsReasoningContent = emitsReasoningContent
    }

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        let events = try sse.feed(buffer.readableBytesView)
        var chunks: [StreamChunk] = []
        for event in events { chunks += try translate(event) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        var chunks: [StreamChunk] = []
        if let event = sse.finish() { chunks = try translate(event) }
        guard ended else {
            throw .badUpstreamResponse("The upstream stream ended before Cohere's message-end event.")
        }
        return chunks
    }

    private mutating func translate(_ event: SSEEvent) throws(GatewayError) -> [StreamChunk] {
        // Anything after message-end (Cohere may add `data: [DONE]`) is ignored.
        guard !ended, event.data != Array("[DONE]".utf8) else { return [] }
        guard let json = try? JSONParser.parse(event.data), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        let message = object["delta"]?["message"]
        var chunks: [StreamChunk] = []
        if !sentRole {
            sentRole = true
            if let upstreamID = object["id"], !upstreamID.isNull { id = upstreamID }
            chunks.append(chunk(delta: ["role": "assistant", "content": ""]))
        }
        switch object["type"]?.stringValue ?? event.event {
        case "content-delta":
            let content = message?["content"]
            if let text = content?["text"]?.stringValue, !text.isEmpty {
                sentContent = true
                chunks.append(chunk(delta: ["content": .string(text)]))
            } else if emitsReasoningContent, let thinking = content?["thinking"]?.stringValue, !thinking.isEmpty {
                chunks.append(chunk(delta: ["reasoning_content": .string(thinking)]))
            }
        case "tool-plan-delta":
            if let plan = message?["tool_plan"]?.stringValue, !plan.isEmpty {
                sentContent = true
                chunks.append(chunk(delta: ["content": .string(plan)]))
            }
        case "tool-call-start":
            let call = message?["tool_calls"]
            guard let index = object["index"]?.intValue, let name = call?["function"]?["name"]?.stringValue else {
                throw .badUpstreamResponse("The upstream stream started a tool call without an index or a name.")
            }
            let ordinal = toolOrdinals.count
            toolOrdinals[index] = ordinal
            let arguments = call?["function"]?["arguments"]?.stringValue ?? ""
            if !arguments.isEmpty { toolsWithArguments.insert(index) }
            chunks.append(toolCallChunk([
                "index": .int(ordinal), "id": .string(call?["id"]?.stringValue ?? RequestTranslation.makeID("call_")),
                "type": "function", "function": .object(["name": .string(name), "arguments": .string(arguments)]),
            ]))
        case "tool-call-delta":
            guard let index = object["index"]?.intValue, let ordinal = toolOrdinals[index] else {
                throw .badUpstreamResponse("The upstream stream sent tool-call arguments for a call it never started.")
            }
            if let fragment = message?["tool_calls"]?["function"]?["arguments"]?.stringValue, !fragment.isEmpty {
                toolsWithArguments.insert(index)
                chunks.append(arguments(fragment, ordinal: ordinal))
            }
        case "tool-call-end":
            // A call whose arguments never came still needs valid JSON arguments.
            if let index = object["index"]?.intValue, let ordinal = toolOrdinals[index], !toolsWithArguments.contains(index) {
                toolsWithArguments.insert(index)
                chunks.append(arguments("{}", ordinal: ordinal))
            }
        case "message-end":
            ended = true
            chunks += end(object["delta"])
        default:
            break  // message-start (handled above), content-start/end, citations, debug
        }
        return chunks
    }

    /// The finish chunk, the usage chunk and the end, or an error chunk when generation failed.
    private func end(_ delta: JSONValue?) -> [StreamChunk] {
        let reason = delta?["finish_reason"]?.stringValue
        if let error = delta?["error"]?.stringValue, !error.isEmpty {
            let message = SecretRedactor.scrub("Cohere failed mid-stream: \(error)")
            let failure =
                UpstreamErrorText.isContextWindowExceeded(error)
                ? GatewayError.contextWindowExceeded(message)
                : GatewayError(status: 502, type: "api_error", message: message, code: "internal_error", errorType: "internal_error")
            return [errorChunk(failure)]
        }
        if !sentContent && toolOrdinals.isEmpty, let failure = CohereAdapter.failure(reason) {
            return [errorChunk(failure)]
        }
        var chunks = [chunk(delta: [:], finish: CohereAdapter.finishReason(reason, sawToolCall: !toolOrdinals.isEmpty))]
        if let usage = CohereAdapter.usage(delta?["usage"]) {
            let usageChunk: JSONObject = [
                "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": .null,
                "choices": .array([]), "usage": CohereAdapter.openAIUsage(usage),
            ]
            chunks.append(.chunk(usageChunk, raw: JSONValue.object(usageChunk).encoded()))
        }
        return chunks + [.done]
    }

    private func arguments(_ fragment: String, ordinal: Int) -> StreamChunk {
        toolCallChunk(["index": .int(ordinal), "function": .object(["arguments": .string(fragment)])])
    }

    private func toolCallChunk(_ call: JSONObject) -> StreamChunk {
        chunk(delta: ["tool_calls": .array([.object(call)])])
    }

    /// Cohere's stream never names the model, and the decoder is not told the request's.
    private func chunk(delta: JSONObject, finish: String? = nil) -> StreamChunk {
        let object: JSONObject = [
            "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": .null,
            "choices": .array([.object([
                "index": .int(0), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null,
            ])]),
        ]
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }

    private func errorChunk(_ error: GatewayError) -> StreamChunk {
        let object = error.body.objectValue ?? JSONObject()
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }
}
