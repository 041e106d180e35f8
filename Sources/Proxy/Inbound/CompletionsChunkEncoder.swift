import NIOCore
import Telemetry

/// Turns the gateway's chat stream (`data: {chat.completion.chunk}` … a usage-only chunk with
/// `choices:[]` … `data: [DONE]`) into the legacy completions stream: each chunk becomes a
/// `text_completion` with the delta as `text`. The echoed prompt goes out with a choice's first
/// text; a chunk with nothing to say (the opening role-only delta) sends nothing; the usage chunk
/// goes out only when the client asked for it. An in-stream error and `[DONE]` pass unchanged.
struct CompletionsChunkEncoder {
    private static let done = Array("[DONE]".utf8)

    private let echo: String?
    private let clientWantsUsage: Bool
    private var sse = SSEDecoder()
    /// The choices that have sent text already (the echo went with the first).
    private var started: Set<Int> = []
    /// Per choice, the character offset its next logprob token starts at.
    private var offsets: [Int: Int] = [:]

    init(echo: String?, clientWantsUsage: Bool) {
        self.echo = echo
        self.clientWantsUsage = clientWantsUsage
    }

    /// Completions events for the next piece of the chat stream.
    mutating func encode(_ buffer: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = []
        for event in (try? sse.feed(buffer.readableBytesView)) ?? [] { translate(event, into: &out) }
        return out
    }

    private mutating func translate(_ event: SSEEvent, into out: inout [UInt8]) {
        if event.data == Self.done {
            pass(event, into: &out)
            return
        }
        guard let chunk = try? JSONParser.parse(event.data), chunk.objectValue != nil else { return }
        if let error = chunk["error"], !error.isNull {
            pass(event, into: &out)
            return
        }
        var choices: [JSONValue] = []
        for (position, choice) in (chunk["choices"]?.arrayValue ?? []).enumerated() {
            let index = choice["index"]?.intValue ?? position
            let content = choice["delta"]?["content"]?.stringValue ?? ""
            let finish = choice["finish_reason"]?.stringValue.map(JSONValue.string)
            let start = offsets[index] ?? echo?.unicodeScalars.count ?? 0
            let logprobs = CompletionsInbound.logprobs(fromChat: choice["logprobs"], offset: start)
            guard !content.isEmpty || finish != nil || !logprobs.value.isNull else { continue }
            offsets[index] = logprobs.end
            let prefix = started.insert(index).inserted ? echo ?? "" : ""
            choices.append(
                CompletionsInbound.choice(
                    text: prefix + content, index: .int(index), logprobs: logprobs.value, finish: finish))
        }
        if !choices.isEmpty {
            var object = CompletionsInbound.header(of: chunk)
            object["choices"] = .array(choices)
            emit(.object(object), into: &out)
        }
        // Usage comes in its own chunk with no choices, as OpenAI sends it.
        if clientWantsUsage, let usage = chunk["usage"], !usage.isNull {
            var object = CompletionsInbound.header(of: chunk)
            object["choices"] = .array([])
            object["usage"] = usage
            emit(.object(object), into: &out)
        }
    }

    private func emit(_ value: JSONValue, into out: inout [UInt8]) {
        out += Array("data: ".utf8)
        out += value.encoded()
        out += Array("\n\n".utf8)
    }

    /// The event as it came, its data split back into lines.
    private func pass(_ event: SSEEvent, into out: inout [UInt8]) {
        if let name = event.event { out += Array("event: \(name)\n".utf8) }
        out += Array("data: ".utf8)
        for byte in event.data {
            if byte == 0x0A {
                out += Array("\ndata: ".utf8)
            } else {
                out.append(byte)
            }
        }
        out += Array("\n\n".utf8)
    }
}
