import NIOCore
import Telemetry

/// Gemini's `streamGenerateContent?alt=sse` as OpenAI chunks.
/// https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
/// Each `data:` is a partial `GenerateContentResponse`: text arrives incrementally, function calls
/// whole, usage cumulatively. There is no end marker, so the usage chunk and `[DONE]` go out when
/// the connection closes, and a stream that closes before its finish reason was cut off.
struct GeminiStreamDecoder: ChatStreamDecoder {
    private var sse = SSEDecoder()
    private var rawJSON = RawJSONLines()
    private var envelope = ChunkEnvelope()
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
        if let usage { chunks.append(envelope.usage(usage, reported: GeminiResponse.reportedUsage)) }
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
        if envelope.id.isNull {
            envelope.id = .string(object["responseId"]?.stringValue ?? RequestTranslation.makeID("chatcmpl-"))
        }
        if envelope.model.isNull, let version = object["modelVersion"] { envelope.model = version }
        if let metadata = object["usageMetadata"], let latest = GeminiResponse.usage(metadata) { usage = latest }
        let candidates = object["candidates"]?.arrayValue ?? []
        if candidates.isEmpty, started.isEmpty, let reason = GeminiResponse.blockReason(object) {
            return [fail(GeminiResponse.blocked(reason))]
        }
        var chunks: [StreamChunk] = []
        for (position, candidate) in candidates.enumerated() {
            let index = candidate["index"]?.intValue ?? position
            guard !finished.contains(index) else { continue }
            if started.insert(index).inserted { chunks.append(envelope.start(choice: index)) }
            for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                switch try GeminiResponse.Part(part) {
                case .text(let text)?:
                    if !text.isEmpty { chunks.append(envelope.delta(["content": .string(text)], choice: index)) }
                case .thought(let text)?:
                    if includeReasoning && !text.isEmpty {
                        chunks.append(envelope.delta(["reasoning_content": .string(text)], choice: index))
                    }
                case .functionCall(let name, let arguments, let callID)?:
                    let ordinal = toolCalls[index, default: 0]
                    toolCalls[index] = ordinal + 1
                    chunks.append(
                        envelope.toolCall(
                            CanonicalToolCall.json(
                                index: ordinal, id: .string(callID), name: .string(name), arguments: arguments),
                            choice: index))
                case nil:
                    break
                }
            }
            let reason = candidate["finishReason"]?.stringValue
            if let finish = GeminiResponse.finishReason(reason, sawToolCall: toolCalls[index] != nil) {
                finished.insert(index)
                chunks.append(envelope.delta([:], choice: index, finish: finish))
            }
        }
        return chunks
    }

    /// An in-stream error in OpenAI's shape; the stream ends after it, without `[DONE]`.
    private mutating func fail(_ error: GatewayError) -> StreamChunk {
        failed = true
        var error = error
        error.param = nil
        return .error(error)
    }
}
