import Telemetry

/// Helicone's async log body (`HeliconeAsyncLogRequest`): the request and answer in OpenAI's
/// shape, who made it as Helicone headers in `meta`, and the timing Helicone requires.
public enum HeliconeLog {
    /// `/oai/v1/log` for OpenAI-shaped providers (Helicone reads their usage natively), else the
    /// provider-neutral `/custom/v1/log`; the body is OpenAI-shaped either way.
    public static func path(for request: FinishedSpan) -> String {
        switch request.summary.provider {
        case "openai", "azure.ai.openai": "/oai/v1/log"
        default: "/custom/v1/log"
        }
    }

    public static func body(for request: FinishedSpan, includeContent: Bool) -> JSONValue {
        let providerRequest: JSONObject = [
            "url": .string(request.summary.apiBase ?? "custom-model-nopath"),
            "json": .object(requestJSON(request, includeContent: includeContent)),
            "meta": .object(meta(request)),
        ]
        let providerResponse: JSONObject = [
            "status": .int(request.summary.statusCode),
            "headers": .object([:]),
            "json": .object(responseJSON(request, includeContent: includeContent)),
        ]
        return .object([
            "providerRequest": .object(providerRequest),
            "providerResponse": .object(providerResponse),
            "timing": .object(timing(request)),
        ])
    }

    static func requestJSON(_ request: FinishedSpan, includeContent: Bool) -> JSONObject {
        let summary = request.summary
        var json = JSONObject()
        if let model = summary.requestModel { json["model"] = .string(model) }
        json["stream"] = .bool(summary.stream)
        // The last attempt's parameters are what the answer (or the final failure) came from.
        for (field, value) in OpenAIShapes.parameters(of: request.attempts.last).members { json[field] = value }
        if includeContent, let input = summary.content?.input {
            json[summary.operation == "embeddings" ? "input" : "messages"] = input
        }
        return json
    }

    /// Helicone request headers: properties become filterable columns; only known facts, as strings.
    static func meta(_ request: FinishedSpan) -> JSONObject {
        let summary = request.summary
        let caller = summary.caller
        let pairs: [(String, String?)] = [
            ("Helicone-User-Id", summary.endUser ?? caller.userID),
            ("Helicone-Property-Team", caller.teamAlias ?? caller.teamID),
            ("Helicone-Property-TeamId", caller.teamID),
            ("Helicone-Property-KeyAlias", caller.keyAlias),
            ("Helicone-Property-ModelGroup", summary.modelGroup),
            ("Helicone-Property-Deployment", summary.deploymentID),
            ("Helicone-Property-Provider", summary.provider),
            ("Helicone-Session-Id", summary.sessionID),
            ("Helicone-Request-Id", requestID(request.server)),
            // Helicone prices by this name: the upstream's model, not the client's group or alias.
            ("Helicone-Model-Override", summary.responseModel ?? request.upstreamModel ?? summary.requestModel),
        ]
        return JSONObject(pairs.compactMap { key, value in value.map { (key: key, value: JSONValue.string($0)) } })
    }

    static func responseJSON(_ request: FinishedSpan, includeContent: Bool) -> JSONObject {
        let summary = request.summary
        guard summary.succeeded else {
            var error = JSONObject()
            if let message = summary.errorMessage { error["message"] = .string(message) }
            if let type = summary.errorType { error["type"] = .string(type) }
            return ["error": .object(error)]
        }
        let attempt = request.answering
        let embeddings = summary.operation == "embeddings"
        var json = JSONObject()
        if case .string(let id) = attempt?.attributes[AttributeName.responseID] { json["id"] = .string(id) }
        json["object"] = .string(embeddings ? "list" : "chat.completion")
        if let model = summary.responseModel ?? request.upstreamModel ?? summary.requestModel { json["model"] = .string(model) }
        if let usage = summary.usage { json["usage"] = .object(OpenAIShapes.usage(usage, embeddings: embeddings)) }
        if includeContent, !embeddings, let messages = summary.content?.output?.arrayValue {
            var reasons: [String] = []
            if case .stringArray(let values) = attempt?.attributes[AttributeName.responseFinishReasons] {
                reasons = values
            }
            json["choices"] = .array(
                messages.enumerated().map { index, message in
                    var choice: JSONObject = ["index": .int(index), "message": message]
                    if index < reasons.count { choice["finish_reason"] = .string(reasons[index]) }
                    return .object(choice)
                })
        }
        return json
    }

    /// The SERVER span's start and end as `{seconds, milliseconds}`, where milliseconds is the
    /// sub-second remainder (Helicone adds `seconds*1000`).
    static func timing(_ request: FinishedSpan) -> JSONObject {
        var timing: JSONObject = [
            "startTime": instant(request.server.startNanos),
            "endTime": instant(max(request.server.endNanos, request.server.startNanos)),
        ]
        if request.summary.stream, let seconds = request.summary.timeToFirstChunkSeconds, seconds.isFinite, seconds >= 0 {
            timing["timeToFirstToken"] = .int(Int((seconds * 1000).rounded()))
        }
        return timing
    }

    static func instant(_ nanos: UInt64) -> JSONValue {
        .object([
            "seconds": .number(String(nanos / 1_000_000_000)),
            "milliseconds": .number(String(nanos % 1_000_000_000 / 1_000_000)),
        ])
    }

    /// A UUID-shaped id (lowercase 8-4-4-4-12) that is stable for the request, so a resent log is
    /// the same Helicone request. The span id comes first because a trace may hold many requests;
    /// the version (4) and variant bits are set so strict UUID validators accept it.
    public static func requestID(_ server: SpanData) -> String {
        var bytes = server.spanID.bytes + Array(server.traceID.bytes.suffix(8))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte -> String in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }
}
