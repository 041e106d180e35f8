import NIOCore
import Telemetry

/// Turns the gateway's OpenAI stream (`data: {chunk}` … `data: [DONE]`) into Anthropic's named
/// events: `message_start`, a `content_block_start`/`_delta`/`_stop` run per text or tool-use
/// block, `message_delta` with the stop reason and usage, `message_stop`. An in-stream error
/// becomes `event: error`.
struct AnthropicEventEncoder {
    private var sse = SSEDecoder()
    private var started = false
    private var blockIndex = -1
    private var openBlock: Block?
    private var toolBlocks: [Int: Int] = [:]
    private var stopReason = "end_turn"
    private var usage: JSONValue?

    private enum Block: Equatable {
        case text
        case tool(Int)
    }

    /// Anthropic events for the next piece of the OpenAI stream.
    mutating func encode(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in (try? sse.feed(buffer.readableBytesView)) ?? [] { translate(event.data, into: &out) }
        return out
    }

    private mutating func translate(_ data: [UInt8], into out: inout [UInt8]) {
        if data == Array("[DONE]".utf8) {
            finish(into: &out)
            return
        }
        guard let chunk = try? JSONParser.parse(data), chunk.objectValue != nil else { return }
        if let error = chunk["error"] {
            emit("error", AnthropicInbound.error(fromOpenAI: .object(["error": error]), status: 500), into: &out)
            return
        }
        if !started {
            started = true
            emit(
                "message_start",
                .object([
                    "type": "message_start",
                    "message": .object([
                        "id": chunk["id"] ?? .null, "type": "message", "role": "assistant", "model": chunk["model"] ?? .null,
                        "content": .array([]), "stop_reason": .null, "stop_sequence": .null,
                        "usage": .object(["input_tokens": .int(0), "output_tokens": .int(0)]),
                    ]),
                ]), into: &out)
        }
        if let usage = chunk["usage"], !usage.isNull { self.usage = usage }
        guard let choice = chunk["choices"]?.arrayValue?.first else { return }
        if let text = choice["delta"]?["content"]?.stringValue, !text.isEmpty {
            open(.text, start: .object(["type": "text", "text": ""]), into: &out)
            emitDelta(.object(["type": "text_delta", "text": .string(text)]), into: &out)
        }
        for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
            let index = call["index"]?.intValue ?? 0
            if toolBlocks[index] == nil {
                open(
                    .tool(index),
                    start: .object([
                        "type": "tool_use", "id": call["id"] ?? .null, "name": call["function"]?["name"] ?? .null,
                        "input": .object([:]),
                    ]), into: &out)
            } else if openBlock != .tool(index) {
                continue  // interleaved fragments of an earlier call cannot be reopened in Anthropic's format
            }
            if let fragment = call["function"]?["arguments"]?.stringValue, !fragment.isEmpty {
                emitDelta(.object(["type": "input_json_delta", "partial_json": .string(fragment)]), into: &out)
            }
        }
        if let finish = choice["finish_reason"]?.stringValue { stopReason = AnthropicInbound.stopReason(finish) }
    }

    private mutating func open(_ block: Block, start: JSONValue, into out: inout [UInt8]) {
        guard openBlock != block else { return }
        closeBlock(into: &out)
        blockIndex += 1
        if case .tool(let index) = block { toolBlocks[index] = blockIndex }
        openBlock = block
        emitBlockEvent("content_block_start", ("content_block", start), into: &out)
    }

    private mutating func closeBlock(into out: inout [UInt8]) {
        guard openBlock != nil else { return }
        emitBlockEvent("content_block_stop", into: &out)
        openBlock = nil
    }

    private func emitDelta(_ delta: JSONValue, into out: inout [UInt8]) {
        emitBlockEvent("content_block_delta", ("delta", delta), into: &out)
    }

    /// A `content_block_*` event about the open block, with its one member beyond type and index.
    private func emitBlockEvent(_ type: String, _ member: (String, JSONValue)? = nil, into out: inout [UInt8]) {
        var object: JSONObject = ["type": .string(type), "index": .int(blockIndex)]
        if let (name, value) = member { object[name] = value }
        emit(type, .object(object), into: &out)
    }

    private mutating func finish(into out: inout [UInt8]) {
        closeBlock(into: &out)
        emit(
            "message_delta",
            .object([
                "type": "message_delta",
                "delta": .object(["stop_reason": .string(stopReason), "stop_sequence": .null]),
                "usage": AnthropicInbound.usage(usage),
            ]), into: &out)
        emit("message_stop", .object(["type": "message_stop"]), into: &out)
    }

    private func emit(_ name: String, _ data: JSONValue, into out: inout [UInt8]) {
        out += Array("event: \(name)\ndata: ".utf8)
        out += data.encoded()
        out += Array("\n\n".utf8)
    }
}
