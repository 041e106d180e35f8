import Telemetry

/// What one response says, read defensively: the answer's text and usage, or the error's kind.
struct EvalAnswer: Sendable, Equatable {
    var text: String?
    var inputTokens = 0
    var outputTokens = 0
    var costUSD = 0.0
    var errorKind: String?
    var errorMessage: String?
    /// `usage.cost` of a streamed answer's usage chunk.
    private var usageCost: Double?

    var succeeded: Bool { errorKind == nil }

    /// The cost as the gateway reports it: the `x-spanway-response-cost` header (or, for a stream,
    /// its trailer), else a streamed usage chunk's `cost`, which is what an HTTP client that
    /// cannot read trailers gets.
    init(_ response: EvalResponse, streamed: Bool) {
        defer {
            let header = response.header("x-spanway-response-cost").flatMap(Double.init)
            costUSD = (header ?? usageCost).flatMap { $0.isFinite ? max(0, $0) : nil } ?? 0
        }
        if let failure = response.transportError {
            errorKind = "connection_error"
            errorMessage = failure
            return
        }
        guard (200..<300).contains(response.status) else {
            readError(response.body, status: response.status)
            return
        }
        if streamed { readStream(response.body) } else { readCompletion(response.body) }
    }

    /// `{"choices":[{"message":{"content":…}}],"usage":{…}}`.
    private mutating func readCompletion(_ body: [UInt8]) {
        guard let object = try? JSONParser.parse(body), object.objectValue != nil else {
            errorKind = "invalid_response"
            errorMessage = "the answer is not a JSON object"
            return
        }
        guard let choice = object["choices"]?.arrayValue?.first, choice["message"]?.objectValue != nil else {
            errorKind = "invalid_response"
            errorMessage = "the answer has no choices[0].message"
            return
        }
        // A null content (a refusal, a tool call) is an empty answer, not a failure.
        text = choice["message"]?["content"]?.stringValue ?? ""
        readUsage(object["usage"])
    }

    /// Server-sent events: `data: {chunk}` lines up to `data: [DONE]`; an `error` chunk fails it.
    private mutating func readStream(_ body: [UInt8]) {
        var collected = ""
        var finished = false
        for line in body.split(separator: UInt8(ascii: "\n")) {
            var payload = line[...]
            guard payload.starts(with: Array("data:".utf8)) else { continue }
            payload = payload.dropFirst(5).drop { $0 == 0x20 }
            while payload.last == 0x0D { payload = payload.dropLast() }
            if payload.elementsEqual("[DONE]".utf8) {
                finished = true
                continue
            }
            guard let chunk = try? JSONParser.parse(payload) else { continue }
            if let error = chunk["error"], error.objectValue != nil {
                errorKind = Self.kind(of: error) ?? "stream_error"
                errorMessage = error["message"]?.stringValue.map { String($0.prefix(500)) }
                return
            }
            for choice in chunk["choices"]?.arrayValue ?? [] {
                if let piece = choice["delta"]?["content"]?.stringValue { collected += piece }
            }
            if let usage = chunk["usage"], usage.objectValue != nil { readUsage(usage) }
        }
        guard finished else {
            errorKind = "stream_interrupted"
            errorMessage = "the stream ended before [DONE]"
            return
        }
        text = collected
    }

    private mutating func readUsage(_ usage: JSONValue?) {
        inputTokens = max(0, usage?["prompt_tokens"]?.intValue ?? 0)
        outputTokens = max(0, usage?["completion_tokens"]?.intValue ?? 0)
        usageCost = usage?["cost"]?.doubleValue
    }

    /// An OpenAI-shaped error body; its `code` names the kind best, then its `type`.
    private mutating func readError(_ body: [UInt8], status: Int) {
        let error = (try? JSONParser.parse(body))?["error"]
        errorKind = error.flatMap(Self.kind(of:)) ?? "http_\(status)"
        errorMessage = error?["message"]?.stringValue.map { String($0.prefix(500)) }
    }

    private static func kind(of error: JSONValue) -> String? {
        let code = error["code"]?.stringValue ?? error["code"]?.intValue.map(String.init)
        return [code, error["type"]?.stringValue].compactMap { $0 }.first { !$0.isEmpty }
    }
}
