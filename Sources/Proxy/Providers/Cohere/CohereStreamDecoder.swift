import NIOCore
import Telemetry

/// Cohere's v2 chat stream (SSE, the event type repeated in each JSON's `type`) as OpenAI chunks.
/// https://docs.cohere.com/reference/chat-stream
/// The tool plan is streamed as content; tool calls are numbered in the order they start. The
/// stream must end with `message-end`: a connection that closes before it is a broken stream, not
/// a finished answer.
struct CohereStreamDecoder: FramedStreamDecoder {
    let emitsReasoningContent: Bool
    var framing = SSEDecoder()
    /// Cohere's stream never names the model, and the chunks do not claim one.
    private var envelope = ChunkEnvelope()
    private var sentRole = false
    private var sentContent = false
    /// Cohere's tool-call `index` → OpenAI's, and whether any argument fragment came for it.
    private var toolOrdinals: [Int: Int] = [:]
    private var toolsWithArguments: Set<Int> = []
    private var ended = false

    init(emitsReasoningContent: Bool) {
        self.emitsReasoningContent = emitsReasoningContent
    }

    func checkComplete() throws(GatewayError) {
        guard ended else {
            throw .badUpstreamResponse("The upstream stream ended before Cohere's message-end event.")
        }
    }

    mutating func translate(_ event: SSEEvent) throws(GatewayError) -> [StreamChunk] {
        // Anything after message-end (Cohere may add `data: [DONE]`) is ignored.
        guard !ended, event.data != Array("[DONE]".utf8) else { return [] }
        guard let json = try? JSONParser.parse(event.data), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        let message = object["delta"]?["message"]
        var chunks: [StreamChunk] = []
        if !sentRole {
            sentRole = true
            if let upstreamID = object["id"], !upstreamID.isNull { envelope.id = upstreamID }
            chunks.append(envelope.start())
        }
        switch object["type"]?.stringValue ?? event.event {
        case "content-delta":
            let content = message?["content"]
            if let text = content?["text"]?.stringValue, !text.isEmpty {
                sentContent = true
                chunks.append(envelope.delta(["content": .string(text)]))
            } else if emitsReasoningContent, let thinking = content?["thinking"]?.stringValue, !thinking.isEmpty {
                chunks.append(envelope.delta(["reasoning_content": .string(thinking)]))
            }
        case "tool-plan-delta":
            if let plan = message?["tool_plan"]?.stringValue, !plan.isEmpty {
                sentContent = true
                chunks.append(envelope.delta(["content": .string(plan)]))
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
            chunks.append(
                envelope.toolCall(
                    CanonicalToolCall.json(
                        index: ordinal, id: .string(call?["id"]?.stringValue ?? RequestTranslation.makeID("call_")),
                        name: .string(name), arguments: arguments)))
        case "tool-call-delta":
            guard let index = object["index"]?.intValue, let ordinal = toolOrdinals[index] else {
                throw .badUpstreamResponse("The upstream stream sent tool-call arguments for a call it never started.")
            }
            if let fragment = message?["tool_calls"]?["function"]?["arguments"]?.stringValue, !fragment.isEmpty {
                toolsWithArguments.insert(index)
                chunks.append(envelope.toolCall(CanonicalToolCall.fragment(index: ordinal, arguments: fragment)))
            }
        case "tool-call-end":
            // A call whose arguments never came still needs valid JSON arguments.
            if let index = object["index"]?.intValue, let ordinal = toolOrdinals[index], !toolsWithArguments.contains(index) {
                toolsWithArguments.insert(index)
                chunks.append(envelope.toolCall(CanonicalToolCall.fragment(index: ordinal, arguments: "{}")))
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
            return [.midStreamFailure(provider: "Cohere", error)]
        }
        if !sentContent && toolOrdinals.isEmpty, let failure = CohereAdapter.failure(reason) {
            return [.error(failure)]
        }
        var chunks = [envelope.delta([:], finish: CohereAdapter.finishReason(reason, sawToolCall: !toolOrdinals.isEmpty))]
        if let usage = CohereAdapter.usage(delta?["usage"]) {
            chunks.append(envelope.usage(usage, reported: CohereAdapter.reportedUsage))
        }
        return chunks + [.done]
    }
}
