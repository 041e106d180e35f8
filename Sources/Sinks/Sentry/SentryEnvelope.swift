import Telemetry

/// Turns a failed request into a Sentry envelope holding one error event
/// (https://develop.sentry.dev/sdk/data-model/envelopes/, https://develop.sentry.dev/sdk/data-model/event-payloads/).
///
/// Only failures go to Sentry: it is an error tracker, and a successful request has nothing to
/// report. The event links to the OTel trace through `contexts.trace` and the envelope's dynamic
/// sampling context, so Sentry and the trace backend point at the same request.
public enum SentryEnvelope {
    public static let sdkName = "spanway"
    /// Sentry keeps tag values under 200 characters and refuses newlines in them.
    static let maxTagLength = 199
    /// Sentry trims longer exception values anyway; cutting here keeps the item well under its 1 MiB limit.
    static let maxMessageLength = 8192

    /// The envelope bytes, or nil for a request that succeeded (nothing to report).
    public static func encode(
        _ request: FinishedSpan, dsn: SentryDSN, environment: String, release: String?, sdkVersion: String,
        sentAtNanos: UInt64, eventID: String
    ) -> [UInt8]? {
        guard let event = event(request, environment: environment, release: release, eventID: eventID) else {
            return nil
        }
        var trace: JSONObject = [
            "trace_id": .string(request.server.traceID.hex), "public_key": .string(dsn.publicKey),
            "environment": .string(environment),
        ]
        if let release { trace["release"] = .string(release) }
        if let orgID = dsn.orgID { trace["org_id"] = .string(String(orgID)) }
        let header: JSONValue = .object([
            "event_id": .string(eventID), "sent_at": .string(Timestamp.iso8601(nanos: sentAtNanos)),
            "sdk": .object(["name": .string(sdkName), "version": .string(sdkVersion)]),
            "trace": .object(trace),
        ])
        let payload = event.encoded()
        let itemHeader: JSONValue = .object([
            "type": "event", "content_type": "application/json", "length": .int(payload.count),
        ])
        // The writer escapes newlines inside strings, so each header is exactly one line.
        var out = header.encoded()
        out.append(UInt8(ascii: "\n"))
        itemHeader.write(into: &out)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: payload)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The error event of a failed request; nil when it succeeded.
    public static func event(
        _ request: FinishedSpan, environment: String, release: String?, eventID: String
    ) -> JSONValue? {
        let s = request.summary
        guard !s.succeeded else { return nil }
        let route = request.server.attributes[AttributeName.httpRoute].flatMap { value -> String? in
            if case .string(let text) = value { return text }
            return nil
        }
        let errorType = s.errorType ?? "http_\(s.statusCode)"
        var event: JSONObject = [
            "event_id": .string(eventID),
            "timestamp": .string(Timestamp.iso8601(nanos: request.server.endNanos)),
            "platform": "other", "level": "error", "logger": "spanway",
            "transaction": .string(route ?? s.operation),
            "environment": .string(environment),
        ]
        if let release { event["release"] = .string(release) }
        event["tags"] = .object(tags(s))
        event["contexts"] = .object([
            "trace": .object([
                "type": "trace", "trace_id": .string(request.server.traceID.hex),
                "span_id": .string(request.server.spanID.hex), "op": "http.server",
                "status": .string(spanStatus(httpStatus: s.statusCode)),
            ])
        ])
        if let user = s.endUser ?? s.caller.userID { event["user"] = .object(["id": .string(user)]) }
        let message = s.errorMessage ?? "HTTP \(s.statusCode)"
        event["exception"] = .object([
            "values": .array([
                .object([
                    "type": .string(errorType),
                    "value": .string(String(message.prefix(maxMessageLength))),
                    // Not "generic": Sentry reserves that for errors captured by hand.
                    "mechanism": .object(["type": "auto.http.spanway", "handled": true]),
                ])
            ])
        ])
        // Group by what failed where, not by the message text, which carries request specifics.
        event["fingerprint"] = .array(
            (["{{ default }}", s.modelGroup, errorType] as [String?]).compactMap { $0.map(JSONValue.string) })
        var extra: JSONObject = [
            "request_id": .string(s.requestID), "attempts": .int(s.attempts),
            "duration_seconds": .double(s.durationSeconds),
        ]
        if let usage = s.usage {
            extra["input_tokens"] = .int(usage.inputTokens)
            extra["output_tokens"] = .int(usage.outputTokens)
        }
        if let cost = s.costUSD { extra["cost_usd"] = .double(cost) }
        event["extra"] = .object(extra)
        return .object(event)
    }

    /// Low-cardinality facts to filter and group on; only the key alias, never its hash.
    static func tags(_ s: RequestSummary) -> JSONObject {
        let pairs: [(String, String?)] = [
            ("model", s.requestModel), ("model_group", s.modelGroup), ("provider", s.provider),
            ("deployment", s.deploymentID), ("team_id", s.caller.teamID), ("team_alias", s.caller.teamAlias),
            ("api_key_alias", s.caller.keyAlias), ("status_code", String(s.statusCode)),
            ("error_type", s.errorType), ("stream", s.stream ? "true" : "false"),
        ]
        var tags = JSONObject()
        for (key, value) in pairs {
            guard let value, !value.isEmpty else { continue }
            tags[key] = .string(tagValue(value))
        }
        return tags
    }

    static func tagValue(_ value: String) -> String {
        let oneLine =
            value.contains(where: \.isNewline)
            ? String(value.map { $0.isNewline ? " " : $0 }) : value
        return String(oneLine.prefix(maxTagLength))
    }

    /// Sentry's span status for an HTTP status, as its SDKs map it, with the gateway's own cases:
    /// 408 and 504 are timeouts, 499 a client that went away.
    public static func spanStatus(httpStatus status: Int) -> String {
        switch status {
        case 200..<400: "ok"
        case 401: "unauthenticated"
        case 403: "permission_denied"
        case 404: "not_found"
        case 408: "deadline_exceeded"
        case 409: "already_exists"
        case 413: "failed_precondition"
        case 429: "resource_exhausted"
        case 499: "cancelled"
        case 400..<500: "invalid_argument"
        case 501: "unimplemented"
        case 503: "unavailable"
        case 504: "deadline_exceeded"
        case 500..<600: "internal_error"
        default: "unknown_error"
        }
    }

    /// A fresh event id: a random (version 4) UUID as 32 lower-case hex digits, no dashes.
    public static func newEventID() -> String {
        var generator = SystemRandomNumberGenerator()
        var high: UInt64 = generator.next()
        var low: UInt64 = generator.next()
        high = (high & ~0xF000) | 0x4000
        low = (low & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
