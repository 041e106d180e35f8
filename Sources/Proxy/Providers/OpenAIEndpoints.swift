import Foundation
import NIOCore
import NIOHTTP1
import Telemetry

/// OpenAI's endpoints beyond chat and embeddings, shared by every adapter that speaks OpenAI's
/// wire format (OpenAI, Azure, the OpenAI-compatible servers): where each operation goes, how its
/// body is sent, and what its answer is read for.
enum OpenAIEndpoints {
    static func path(_ operation: OpenAIRequest.Operation) -> String {
        switch operation {
        case .chat: "/chat/completions"
        case .embeddings: "/embeddings"
        case .responses: "/responses"
        case .textCompletion: "/completions"
        case .imageGeneration: "/images/generations"
        case .audioSpeech: "/audio/speech"
        case .audioTranscription: "/audio/transcriptions"
        case .audioTranslation: "/audio/translations"
        case .rerank: "/rerank"
        case .moderation: "/moderations"
        }
    }

    /// The request's body for `model`, with its headers: JSON with only the model (and, for a
    /// chat or completions stream, the usage request) changed, or the client's upload with
    /// its `model` field replaced.
    static func body(
        _ request: OpenAIRequest, model: String, headers: inout HTTPHeaders
    ) -> (json: [UInt8], parts: [ByteBuffer]) {
        if let form = request.form {
            headers.replaceOrAdd(name: "content-type", value: form.contentType)
            var fields = ["model": model]
            // A plain-text transcript is asked for as JSON, which says its duration (what
            // whisper-1 is priced by), and given back as text.
            if asksForPlainText(request) { fields["response_format"] = "json" }
            return ([], form.replacing(fields))
        }
        var body = request.body
        body["model"] = .string(model)
        if request.stream && (request.operation == .chat || request.operation == .textCompletion) {
            // Always ask for usage so spend is never missing; the client only sees it if it asked.
            var options = body["stream_options"]?.objectValue ?? JSONObject()
            options["include_usage"] = .bool(true)
            body["stream_options"] = .object(options)
        }
        if request.operation == .audioSpeech { headers.replaceOrAdd(name: "accept", value: "*/*") }
        return (JSONValue.object(body).encoded(), [])
    }

    /// An answer read for what the span and the price need; the body goes to the client as is.
    static func reply(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        let json = try? JSONParser.parse(body, limits: .upstreamResponse)
        if asksForPlainText(request), let text = json?["text"]?.stringValue {
            var asked = request
            asked.body["response_format"] = "json"
            var reply = try reply(body, json: json, for: asked)
            reply.body = Array((text + "\n").utf8)
            reply.contentType = "text/plain; charset=utf-8"
            return reply
        }
        return try reply(body, json: json, for: request)
    }

    /// Whether the client asked for a transcript as plain text.
    static func asksForPlainText(_ request: OpenAIRequest) -> Bool {
        request.form != nil && request.body["response_format"]?.stringValue == "text"
    }

    private static func reply(_ body: [UInt8], json: JSONValue?, for request: OpenAIRequest) throws(GatewayError)
        -> ProviderReply
    {
        let operation = request.operation
        // A transcript asked for as text, SRT or VTT is not JSON.
        if operation == .audioTranscription || operation == .audioTranslation, json?.objectValue == nil {
            let format = request.body["response_format"]?.stringValue ?? "json"
            guard ["text", "srt", "vtt"].contains(format) else {
                throw .badUpstreamResponse("The upstream answered with a body that is not a JSON object.")
            }
            return ProviderReply(
                body: body, usage: nil, responseID: nil, responseModel: nil, finishReasons: [],
                units: lastCueEnd(body).map { BilledUnits(seconds: $0) },
                contentType: format == "text"
                    ? "text/plain; charset=utf-8" : format == "srt" ? "application/x-subrip" : "text/vtt")
        }
        guard let object = json?.objectValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a JSON object.")
        }
        let expected: String? =
            switch operation {
            case .chat, .textCompletion: "choices"
            case .embeddings, .imageGeneration: "data"
            case .responses: "output"
            case .rerank, .moderation: "results"
            case .audioTranscription, .audioTranslation, .audioSpeech: nil
            }
        if let expected, object[expected]?.arrayValue == nil {
            throw .badUpstreamResponse("The upstream's answer has no '\(expected)' array.")
        }
        let usageValue = object["usage"]
        var units: BilledUnits?
        var usage = usageValue.flatMap(CanonicalUsage.parse)
        switch operation {
        case .imageGeneration:
            units = BilledUnits(images: object["data"]?.arrayValue?.count ?? 0)
        case .audioTranscription, .audioTranslation:
            // `usage` is tokens (gpt-4o-transcribe) or `{type: duration, seconds}` (whisper-1);
            // verbose JSON has `duration` instead.
            if usageValue?["type"]?.stringValue == "duration" { usage = nil }
            let seconds = usageValue?["seconds"]?.doubleValue ?? object["duration"]?.doubleValue
            units = seconds.map { BilledUnits(seconds: $0) }
        case .rerank:
            units = BilledUnits(queries: object["meta"]?["billed_units"]?["search_units"]?.doubleValue ?? 1)
        default:
            break
        }
        let finishReasons: [String] =
            operation == .responses
            ? [object["status"]?.stringValue].compactMap { $0 }
            : object["choices"]?.arrayValue?.compactMap { $0["finish_reason"]?.stringValue } ?? []
        return ProviderReply(
            body: body, usage: usage, responseID: object["id"]?.stringValue, responseModel: object["model"]?.stringValue,
            finishReasons: finishReasons, units: units)
    }

    /// The end of an SRT or VTT transcript's last cue (`00:01:02,500` or `00:01:02.500`), in
    /// seconds: the audio's duration, near enough to price it by the second.
    static func lastCueEnd(_ body: [UInt8]) -> Double? {
        let text = String(decoding: body, as: UTF8.self)
        guard let arrow = text.range(of: "-->", options: .backwards) else { return nil }
        let stamp = text[arrow.upperBound...].drop { $0 == " " }.prefix { $0.isNumber || $0 == ":" || $0 == "," || $0 == "." }
        let fields = stamp.replacingOccurrences(of: ",", with: ".").split(separator: ":").compactMap { Double($0) }
        guard (2...3).contains(fields.count) else { return nil }
        return fields.reduce(0) { $0 * 60 + $1 }
    }
}
