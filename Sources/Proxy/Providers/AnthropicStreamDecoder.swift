import Foundation
import NIOCore
import Telemetry

/// Anthropic's named-event stream as OpenAI chunks (providers.md §4.5). Tool calls are numbered
/// among tool calls only, not among all content blocks as Anthropic's `index` is.
struct AnthropicStreamDecoder: ChatStreamDecoder {
    private var sse = SSEDecoder()
    private var id: JSONValue = .null
    private var model: JSONValue = .null
    private let created = Int(Date().timeIntervalSince1970)
    private var startUsage: JSONValue?
    private var usage: Usage?
    private var toolOrdinals: [Int: Int] = [:]
    /// JSON mode: the forced JSON tool's input streams out as content (see `AnthropicRequest.jsonTool`).
    private let jsonMode: Bool
    private var jsonBlock: Int?
    /// Thinking text goes out as `reasoning_content` only when the client opted in.
    private let includeReasoning: Bool

    init(jsonMode: Bool = false, includeReasoning: Bool = false) {
        self.jsonMode = jsonMode
        self.includeReasoning = includeReasoning
    }

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        let events = try sse.feed(buffer.readableBytesView)
        var chunks: [StreamChunk] = []
        for event in events { chunks += try translate(event) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        guard let event = sse.finish() else { return [] }
        return try translate(event)
    }

    private mutating func translate(_ event: SSEEvent) throws(GatewayError) -> [StreamChunk] {
        guard let json = try? JSONParser.parse(event.data), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        switch object["type"]?.stringValue ?? event.event {
        case "message_start":
            id = object["message"]?["id"] ?? .null
            model = object["message"]?["model"] ?? .null
            startUsage = object["message"]?["usage"]
            return [chunk(delta: ["role": "assistant", "content": ""])]
        case "content_block_start":
            guard object["content_block"]?["type"]?.stringValue == "tool_use", let index = object["index"]?.intValue else {
                return []
            }
            if jsonMode && object["content_block"]?["name"]?.stringValue == AnthropicRequest.jsonTool {
                jsonBlock = index
                return []
            }
            let ordinal = toolOrdinals.count
            toolOrdinals[index] = ordinal
            let block = object["content_block"]
            return [chunk(delta: ["tool_calls": .array([.object([
                "index": .int(ordinal), "id": block?["id"] ?? .null, "type": "function",
                "function": .object(["name": block?["name"] ?? .null, "arguments": ""]),
            ])])])]
        case "content_block_delta":
            let delta = object["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta":
                return [chunk(delta: ["content": delta?["text"] ?? ""])]
            case "input_json_delta" where jsonBlock != nil && object["index"]?.intValue == jsonBlock:
                guard let fragment = delta?["partial_json"]?.stringValue, !fragment.isEmpty else { return [] }
                return [chunk(delta: ["content": .string(fragment)])]
            case "input_json_delta":
                guard let fragment = delta?["partial_json"]?.stringValue, !fragment.isEmpty,
                    let ordinal = object["index"]?.intValue.flatMap({ toolOrdinals[$0] })
                else { return [] }
                return [chunk(delta: ["tool_calls": .array([.object([
                    "index": .int(ordinal), "function": .object(["arguments": .string(fragment)]),
                ])])])]
            case "thinking_delta" where includeReasoning:
                guard let thinking = delta?["thinking"]?.stringValue, !thinking.isEmpty else { return [] }
                return [chunk(delta: ["reasoning_content": .string(thinking)])]
            default:
                return []  // signatures (and thinking, unless asked for) have no OpenAI field
            }
        case "message_delta":
            // Usage here is cumulative; input comes from message_start unless repeated here.
            var merged = startUsage?.objectValue ?? JSONObject()
            for member in object["usage"]?.objectValue?.members ?? [] { merged[member.key] = member.value }
            usage = AnthropicAdapter.usage(.object(merged))
            let stop = object["delta"]?["stop_reason"]?.stringValue
            let finish = jsonBlock != nil && stop == "tool_use" ? "stop" : AnthropicAdapter.finishReason(stop)
            return [chunk(delta: [:], finish: finish)]
        case "message_stop":
            var last: [StreamChunk] = []
            if let usage {
                let usageChunk: JSONObject = [
                    "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": model,
                    "choices": .array([]), "usage": AnthropicAdapter.openAIUsage(usage),
                ]
                last.append(.chunk(usageChunk, raw: JSONValue.object(usageChunk).encoded()))
            }
            return last + [.done]
        case "error":
            let error = object["error"]
            let mapped: JSONObject = [
                "error": .object([
                    "message": error?["message"] ?? "The upstream failed mid-stream.",
                    "type": .string(AnthropicAdapter.openAIErrorType(error?["type"]?.stringValue, status: 503)),
                    "code": error?["type"] ?? .null,
                ])
            ]
            return [.chunk(mapped, raw: JSONValue.object(mapped).encoded())]
        default:
            return []  // ping, content_block_stop
        }
    }

    private func chunk(delta: JSONObject, finish: String? = nil) -> StreamChunk {
        let object: JSONObject = [
            "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": model,
            "choices": .array([.object([
                "index": .int(0), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null,
            ])]),
        ]
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }
}
