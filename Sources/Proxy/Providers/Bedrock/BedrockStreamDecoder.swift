import Foundation
import NIOCore
import Telemetry

/// Bedrock's ConverseStream (binary event-stream frames) as OpenAI chunks.
/// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
/// Tool calls are numbered among tool calls only, not among content blocks. Usage arrives in the
/// `metadata` event *after* `messageStop`, so the stream ends there, not at the stop. An
/// exception frame becomes one OpenAI-shaped error chunk, and the stream is over.
struct BedrockStreamDecoder: ChatStreamDecoder {
    private enum Phase {
        case streaming
        /// `messageStop` seen; the `metadata` event may still come.
        case stopped
        /// Done, or failed: later frames are ignored.
        case ended
    }

    private var frames = EventStreamDecoder()
    private let envelope: ChunkEnvelope
    /// Scrubbed from upstream exception messages.
    private let secrets: [String]
    private var phase = Phase.streaming
    /// Content block index → tool-call ordinal.
    private var toolOrdinals: [Int: Int] = [:]

    init(model: String, secrets: [String]) {
        self.envelope = ChunkEnvelope(id: .string(BedrockAdapter.makeResponseID()), model: .string(model))
        self.secrets = secrets
    }

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        let messages: [EventStreamMessage]
        do {
            messages = try frames.feed(buffer)
        } catch {
            throw .badUpstreamResponse("The upstream Bedrock event stream is corrupt: \(error).")
        }
        var chunks: [StreamChunk] = []
        for message in messages where phase != .ended { chunks += try translate(message) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        if phase == .ended { return [] }
        do {
            try frames.finish()
        } catch {
            throw .badUpstreamResponse("The upstream Bedrock event stream is corrupt: \(error).")
        }
        guard phase == .stopped else {
            throw .badUpstreamResponse("The upstream Bedrock event stream ended before its messageStop event.")
        }
        // No metadata event: the answer is complete, only its usage is unknown.
        phase = .ended
        return [.done]
    }

    private mutating func translate(_ message: EventStreamMessage) throws(GatewayError) -> [StreamChunk] {
        switch message.string(":message-type") {
        case "event":
            guard let json = try? JSONParser.parse(message.payload), json.objectValue != nil else {
                throw .badUpstreamResponse("The upstream Bedrock stream sent an event whose payload is not a JSON object.")
            }
            return try event(message.string(":event-type"), json)
        case "exception":
            let json = try? JSONParser.parse(message.payload)
            return fail(
                name: message.string(":exception-type"),
                message: json?["message"]?.stringValue ?? json?["Message"]?.stringValue)
        case "error":
            return fail(name: message.string(":error-code"), message: message.string(":error-message"))
        default:
            throw .badUpstreamResponse("The upstream Bedrock stream sent a frame without a known :message-type.")
        }
    }

    private mutating func event(_ type: String?, _ json: JSONValue) throws(GatewayError) -> [StreamChunk] {
        switch type {
        case "messageStart":
            return [envelope.start()]
        case "contentBlockStart":
            guard let toolUse = json["start"]?["toolUse"] else { return [] }
            guard let index = json["contentBlockIndex"]?.intValue, let toolID = toolUse["toolUseId"]?.stringValue,
                let name = toolUse["name"]?.stringValue
            else {
                throw .badUpstreamResponse(
                    "The upstream Bedrock stream started a toolUse block without its index, id or name.")
            }
            let ordinal = toolOrdinals.count
            toolOrdinals[index] = ordinal
            return [
                envelope.toolCall(
                    CanonicalToolCall.json(index: ordinal, id: .string(toolID), name: .string(name), arguments: ""))
            ]
        case "contentBlockDelta":
            let delta = json["delta"]
            if let text = delta?["text"]?.stringValue {
                return text.isEmpty ? [] : [envelope.delta(["content": .string(text)])]
            }
            if let fragment = delta?["toolUse"]?["input"]?.stringValue {
                guard let ordinal = json["contentBlockIndex"]?.intValue.flatMap({ toolOrdinals[$0] }) else {
                    throw .badUpstreamResponse(
                        "The upstream Bedrock stream sent toolUse input for a block it never started.")
                }
                return fragment.isEmpty
                    ? [] : [envelope.toolCall(CanonicalToolCall.fragment(index: ordinal, arguments: fragment))]
            }
            return []  // reasoning text, signatures and citations have no OpenAI field
        case "messageStop":
            phase = .stopped
            let finish = BedrockAdapter.finishReason(json["stopReason"]?.stringValue, sawToolCall: !toolOrdinals.isEmpty)
            return [envelope.delta([:], finish: finish)]
        case "metadata":
            phase = .ended
            guard let usage = BedrockAdapter.usage(json["usage"]) else { return [.done] }
            return [envelope.usage(usage, reported: BedrockAdapter.reportedUsage), .done]
        default:
            return []  // contentBlockStop, and events added after this was written
        }
    }

    /// An exception frame as an in-stream OpenAI error, typed like the same
    /// exception over HTTP.
    private mutating func fail(name: String?, message: String?) -> [StreamChunk] {
        phase = .ended
        let text = SecretRedactor.scrub(message ?? "Bedrock failed mid-stream.", secrets: secrets)
        return [.error(BedrockError.map(name: name, message: text, upstreamStatus: 500))]
    }
}
