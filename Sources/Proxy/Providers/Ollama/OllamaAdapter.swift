import Foundation
import NIOCore
import NIOHTTP1
import Telemetry

/// Ollama's native API (`ollama_chat/…`, `ollama/…`): OpenAI chat requests translated to
/// `/api/chat` and embeddings to `/api/embed`, answers and NDJSON streams translated back, errors
/// mapped (https://github.com/ollama/ollama/blob/main/docs/api.md). Ollama's OpenAI-compatible `/v1` needs no adapter of its own.
public struct OllamaAdapter: ProviderAdapter {
    public var genAIProviderName: String { "ollama" }
    public var defaultAPIBase: String { "http://localhost:11434" }
    /// A local server needs no key; ollama.com takes one as a bearer token.
    public var apiKeyEnvironment: String? { "OLLAMA_API_KEY" }
    public init() {}

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        let headers = HTTPHeaders.json(bearer: deployment.apiKey)
        let body: JSONObject
        let path: String
        switch request.operation {
        case .chat:
            body = try OllamaRequest.chat(
                request.body, model: deployment.model, stream: request.stream, dropParams: deployment.dropParams)
            path = "/api/chat"
        case .embeddings:
            body = try OllamaRequest.embed(request, model: deployment.model)
            path = "/api/embed"
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
        return UpstreamRequest(url: url(deployment, path), headers: headers, body: JSONValue.object(body).encoded())
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body, limits: .upstreamResponse), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a JSON object.")
        }
        if let error = object["error"]?.stringValue {
            throw .badUpstreamResponse("Ollama answered with an error: \(SecretRedactor.scrub(error))")
        }
        switch request.operation {
        case .chat: return try chatReply(object, includeReasoning: request.includeReasoning)
        case .embeddings: return try embeddingsReply(object, for: request)
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
    }

    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        OllamaStreamDecoder(emitsReasoningContent: request.includeReasoning)
    }

    /// Ollama errors are `{"error":"…"}` plus the status; a missing model is a 404 whose
    /// text says to pull it.
    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let json = try? JSONParser.parse(body)
        let text =
            json?["error"]?.stringValue ?? json?["error"]?["message"]?.stringValue
            ?? "The upstream provider answered HTTP \(status)."
        return UpstreamStatusError.make(
            status: status, message: SecretRedactor.scrub(text, secrets: deployment.secrets), headers: headers)
    }

    private func chatReply(_ object: JSONObject, includeReasoning: Bool) throws(GatewayError) -> ProviderReply {
        guard let message = object["message"], message.objectValue != nil else {
            throw .badUpstreamResponse("The upstream answered with a body that is not an Ollama chat response.")
        }
        let toolCalls = try Self.toolCalls(message["tool_calls"], firstIndex: 0).map { call in
            var call = call
            call["index"] = nil  // only stream deltas are indexed
            return JSONValue.object(call)
        }
        let text = message["content"]?.stringValue ?? ""
        let finish = Self.finishReason(object["done_reason"]?.stringValue, sawToolCall: !toolCalls.isEmpty)
        let reply = CanonicalCompletion.message(
            text: text, toolCalls: toolCalls, reasoning: includeReasoning ? message["thinking"]?.stringValue : nil)
        // Ollama's answers carry no id.
        return CanonicalCompletion.reply(
            id: .string(RequestTranslation.makeID("chatcmpl-")), model: object["model"] ?? .null,
            responseModel: object["model"]?.stringValue, choices: [CanonicalCompletion.choice(message: reply, finish: finish)],
            usage: Self.usage(object), reported: Self.reportedUsage, finishReasons: [finish],
            created: Self.created(object["created_at"]))
    }

    private func embeddingsReply(_ object: JSONObject, for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let vectors = object["embeddings"]?.arrayValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not an Ollama embed response.")
        }
        let tokens = object["prompt_eval_count"]?.tokenCount
        let body = try EmbeddingsTranslation.openAIBody(
            vectors: vectors, model: request.model, promptTokens: tokens, for: request)
        return ProviderReply(
            body: body, usage: tokens.map { Usage(inputTokens: $0, outputTokens: 0) }, responseID: nil,
            responseModel: object["model"]?.stringValue, finishReasons: [])
    }

    /// Ollama's whole tool calls as OpenAI's, numbered from `firstIndex`: ids made up (Ollama has
    /// none) and argument objects serialised to the JSON string OpenAI uses.
    static func toolCalls(_ value: JSONValue?, firstIndex: Int) throws(GatewayError) -> [JSONObject] {
        guard let value, !value.isNull else { return [] }
        guard let calls = value.arrayValue else {
            throw .badUpstreamResponse("The upstream's 'message.tool_calls' is not an array.")
        }
        var out: [JSONObject] = []
        for (offset, call) in calls.enumerated() {
            guard let name = call["function"]?["name"]?.stringValue else {
                throw .badUpstreamResponse("The upstream sent a tool call without a function name.")
            }
            let text = RequestTranslation.argumentsText(call["function"]?["arguments"])
            out.append(
                CanonicalToolCall.json(
                    index: firstIndex + offset, id: .string(RequestTranslation.makeID("call_")), name: .string(name),
                    arguments: text))
        }
        return out
    }

    /// Counts from the final object. `prompt_eval_count` may be missing when the whole prompt was
    /// reused from Ollama's cache; with neither count there is no usage to report.
    static func usage(_ object: JSONObject) -> Usage? {
        let input = object["prompt_eval_count"]?.tokenCount
        let output = object["eval_count"]?.tokenCount
        guard input != nil || output != nil else { return nil }
        return Usage(inputTokens: input ?? 0, outputTokens: output ?? 0)
    }

    /// Ollama reports no cache or reasoning breakdown.
    static let reportedUsage: CanonicalUsage.Details = []

    /// Ollama says `stop` even when it called tools; `load` and `unload` are housekeeping replies.
    static func finishReason(_ reason: String?, sawToolCall: Bool) -> String {
        if reason == "length" { return "length" }
        return sawToolCall ? "tool_calls" : "stop"
    }

    /// `created_at` in Unix seconds, or now when it is missing or unreadable.
    static func created(_ value: JSONValue?) -> Int {
        value?.stringValue.flatMap(unixSeconds(rfc3339:)) ?? Int(Date().timeIntervalSince1970)
    }

    /// RFC 3339 (`2026-11-25T12:00:01.482913Z`, `…-07:00`) to Unix seconds. Parsed by hand
    /// because Ollama writes nanoseconds, more fractional digits than date parsers reliably accept.
    static func unixSeconds(rfc3339 text: String) -> Int? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for i in range {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        func byte(_ i: Int, is allowed: String) -> Bool { i < b.count && allowed.utf8.contains(b[i]) }
        guard let year = number(0..<4), byte(4, is: "-"), let month = number(5..<7), byte(7, is: "-"),
            let day = number(8..<10), byte(10, is: "Tt "), let hour = number(11..<13), byte(13, is: ":"),
            let minute = number(14..<16), byte(16, is: ":"), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        if byte(i, is: ".") {
            i += 1
            while byte(i, is: "0123456789") { i += 1 }
        }
        var offset = 0
        if byte(i, is: "Zz"), i + 1 == b.count {
            offset = 0
        } else if byte(i, is: "+-"), i + 6 == b.count, let h = number(i + 1..<i + 3), byte(i + 3, is: ":"),
            let m = number(i + 4..<i + 6)
        {
            offset = (h * 3600 + m * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        // Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second - offset
    }
}
