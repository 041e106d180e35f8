import NIOCore
import Telemetry

/// Anthropic's named-event stream as OpenAI chunks.
/// https://docs.anthropic.com/en/docs/build-with-claude/streaming
/// Tool calls are numbered among tool calls only, not among all content blocks as Anthropic's
/// `index` is.
struct AnthropicStreamDecoder: FramedStreamDecoder {
    var framing = SSEDecoder()
    private var envelope = ChunkEnvelope()
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

    mutating func translate(_ event: SSEEvent) throws(GatewayError) -> [StreamChunk] {
        guard let json = try? JSONParser.parse(event.data), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        switch object["type"]?.stringValue ?? event.event {
        case "message_start":
            envelope.id = object["message"]?["id"] ?? .null
            envelope.model = object["message"]?["model"] ?? .null
            startUsage = object["message"]?["usage"]
            return [envelope.start()]
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
            return [
                envelope.toolCall(
                    CanonicalToolCall.json(
                        index: ordinal, id: block?["id"] ?? .null, name: block?["name"] ?? .null, arguments: ""))
            ]
        case "content_block_delta":
            let delta = object["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta":
                return [envelope.delta(["content": delta?["text"] ?? ""])]
            case "input_json_delta" where jsonBlock != nil && object["index"]?.intValue == jsonBlock:
                guard let fragment = delta?["partial_json"]?.stringValue, !fragment.isEmpty else { return [] }
                return [envelope.delta(["content": .string(fragment)])]
            case "input_json_delta":
                guard let fragment = delta?["partial_json"]?.stringValue, !fragment.isEmpty,
                    let ordinal = object["index"]?.intValue.flatMap({ toolOrdinals[$0] })
                else { return [] }
                return [envelope.toolCall(CanonicalToolCall.fragment(index: ordinal, arguments: fragment))]
            case "thinking_delta" where includeReasoning:
                guard let thinking = delta?["thinking"]?.stringValue, !thinking.isEmpty else { return [] }
                return [envelope.delta(["reasoning_content": .string(thinking)])]
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
            return [envelope.delta([:], finish: finish)]
        case "message_stop":
            let last = usage.map { [envelope.usage($0, reported: AnthropicAdapter.reportedUsage)] } ?? []
            return last + [.done]
        case "error":
            let error = object["error"]
            let mapped: JSONObject = [
                "error": .object([
                    "message": error?["message"] ?? "The upstream failed mid-stream.",
                    // A failure after the answer started is the upstream's: api_error unless Anthropic says more.
                    "type": .string(AnthropicAdapter.openAIErrorType(error?["type"]?.stringValue) ?? "api_error"),
                    "code": error?["type"] ?? .null,
                ])
            ]
            return [.chunk(mapped, raw: JSONValue.object(mapped).encoded())]
        default:
            return []  // ping, content_block_stop
        }
    }
}
