import Foundation
import NIOCore
import Telemetry

/// Gemini's `streamGenerateContent?alt=sse` as OpenAI chunks (providers.md §5.4). Each `data:` is a
/// partial `GenerateContentResponse`: text arrives incrementally, function calls whole, usage
/// cumulatively. There is no end marker, so the usage chunk and `[DONE]` go out when the
/// connection closes, and a stream that closes before its finish reason was cut off.
struct GeminiStreamDecoder: ChatStreamDecoder {
    private var sse = SSEDecoder()
    private var rawJSON = RawJSONLines()
    private var id: JSONValue = .null
    private var model: JSONValue = .null
    private let created = Int(Date().timeIntervalSince1970)
    /// Candidates (choices) whose role chunk has gone out, and those that have finished.
    private var started: Set<Int> = []
    private var finished: Set<Int> = []
    /// Tool calls so far per candidate: the next call's `index`.
    private var toolCalls: [Int: Int] = [:]
    private var usage: Usage?
    /// An error chunk has gone out; nothing may follow it.
    private var failed = false
    /// Thoughts go out as `reasoning_content` only when the client opted in.
    private let includeReasoning: Bool

    init(includeReasoning: Bool = false) {
        self.includeReasoning = includeReasoning
    }

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        let bytes = buffer.readableBytesView
        let events = try sse.feed(bytes)
        var chunks: [StreamChunk] = []
        for event in events { chunks += try translate(event.data) }
        for document in try rawJSON.feed(bytes) { chunks += try translate(document) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        var chunks: [StreamChunk] = []
        if let event = sse.finish() { chunks += try translate(event.data) }
        if failed { return chunks }
        guard !rawJSON.isCollecting else {
            throw .badUpstreamResponse("The upstream stream ended in the middle of a JSON document.")
        }
        guard !started.isEmpty else {
            throw .badUpstreamResponse("The upstream stream ended without sending any candidate.")
        }
        guard started.isSubset(of: finished) else {
            throw .badUpstreamResponse("The upstream stream ended before its finish reason: it was cut off.")
        }
        if let usage {
            let object: JSONObject = [
                "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": model,
                "choices": .array([]), "usage": AnthropicAdapter.openAIUsage(usage),
            ]
            chunks.append(.chunk(object, raw: JSONValue.object(object).encoded()))
        }
        return chunks + [.done]
    }

    private mutating func translate(_ data: [UInt8]) throws(GatewayError) -> [StreamChunk] {
        // A raw error document may come wrapped in an array, as Vertex's non-SSE stream is.
        let parsed = try? JSONParser.parse(data)
        guard let object = (parsed?.arrayValue?.first ?? parsed)?.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        guard !failed else { return [] }
        if let error = object["error"], !error.isNull {
            return [fail(GeminiError.gatewayError(error, httpStatus: error["code"]?.intValue ?? 500, secrets: []))]
        }
        if id.isNull { id = .string(object["responseId"]?.stringValue ?? RequestTranslation.makeID("chatcmpl-")) }
        if model.isNull, let version = object["modelVersion"] { model = version }
        if let metadata = object["usageMetadata"], let latest = GeminiResponse.usage(metadata) { usage = latest }
        let candidates = object["candidates"]?.arrayValue ?? []
        if candidates.isEmpty, started.isEmpty, let reason = GeminiResponse.blockReason(object) {
            return [fail(GeminiResponse.blocked(reason))]
        }
        var chunks: [StreamChunk] = []
        for (position, candidate) in candidates.enumerated() {
            let index = candidate["index"]?.intValue ?? position
            guard !finished.contains(index) else { continue }
            if started.insert(index).inserted { chunks.append(chunk(index, delta: ["role": "assistant", "content": ""])) }
            for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                switch try GeminiResponse.Part(part) {
                case .text(let text)?:
                    if !text.isEmpty { chunks.append(chunk(index, delta: ["content": .string(text)])) }
                case .thought(let text)?:
                    if includeReasoning && !text.isEmpty {
                        chunks.append(chunk(index, delta: ["reasoning_content": .string(text)]))
                    }
                case .functionCall(let name, let arguments, let callID)?:
                    let ordinal = toolCalls[index, default: 0]
                    toolCalls[index] = ordinal + 1
                    chunks.append(chunk(index, delta: ["tool_calls": .array([.object([
                        "index": .int(ordinal), "id": .string(callID), "type": "function",
                        "function": .object(["name": .string(name), "arguments": .string(arguments)]),
                    ])])]))
                case nil:
                    break
                }
            }
            let reason = candidate["finishReason"]?.stringValue
            if let finish = GeminiResponse.finishReason(reason, sawToolCall: toolCalls[index] != nil) {
                finished.insert(index)
                chunks.append(chunk(index, delta: [:], finish: finish))
            }
        }
        return chunks
    }

    /// An in-stream error in OpenAI's shape; the stream ends after it, without `[DONE]`.
    private mutating func fail(_ error: GatewayError) -> StreamChunk {
        failed = true
        let object: JSONObject = [
            "error": .object([
                "message": .string(error.message), "type": .string(error.type), "param": .null,
                "code": error.code.map(JSONValue.string) ?? .null,
            ])
        ]
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }

    private func chunk(_ index: Int, delta: JSONObject, finish: String? = nil) -> StreamChunk {
        let object: JSONObject = [
            "id": id, "object": "chat.completion.chunk", "created": .int(created), "model": model,
            "choices": .array([.object([
                "index": .int(index), "delta": .object(delta), "finish_reason": finish.map(JSONValue.string) ?? .null,
            ])]),
        ]
        return .chunk(object, raw: JSONValue.object(object).encoded())
    }
}

/// Gemini may send an error mid-stream as raw, possibly pretty-printed JSON that is not SSE-framed;
/// the google-genai SDK collects such lines until the braces balance, and so does this
/// (providers.md §5.4, §12.2). Lines that do not open a JSON document (`data:`, comments, blank
/// lines) are the SSE decoder's and are skipped here.
struct RawJSONLines {
    private var line: [UInt8] = []
    private var document: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var skipLeadingLF = false

    var isCollecting: Bool { !document.isEmpty }

    mutating func feed(_ bytes: some Sequence<UInt8>) throws(GatewayError) -> [[UInt8]] {
        var documents: [[UInt8]] = []
        for byte in bytes {
            if skipLeadingLF {
                skipLeadingLF = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A:
                if let document = endLine() { documents.append(document) }
            case 0x0D:
                skipLeadingLF = true
                if let document = endLine() { documents.append(document) }
            default:
                guard line.count + document.count < SSEDecoder.maxLineLength else {
                    throw .badUpstreamResponse("The upstream stream sent a JSON document larger than the gateway accepts.")
                }
                line.append(byte)
            }
        }
        return documents
    }

    private mutating func endLine() -> [UInt8]? {
        defer { line.removeAll(keepingCapacity: true) }
        if document.isEmpty {
            let first = line.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        }
        for byte in line {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        document += line
        document.append(0x0A)
        guard depth <= 0 else { return nil }
        defer {
            document.removeAll(keepingCapacity: true)
            depth = 0
            inString = false
            escaped = false
        }
        return document
    }
}
