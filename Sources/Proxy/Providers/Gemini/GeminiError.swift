import Telemetry

/// Google's error bodies (`google.rpc.Status` as JSON, https://ai.google.dev/gemini-api/docs/troubleshooting)
/// as the gateway's OpenAI-shaped errors. Used for HTTP errors and for `{"error":…}` events inside a stream.
enum GeminiError {
    static func gatewayError(_ error: JSONValue?, httpStatus: Int, secrets: [String]) -> GatewayError {
        let status = error?["status"]?.stringValue
        let message = scrub(
            error?["message"]?.stringValue ?? "The upstream provider answered HTTP \(httpStatus).", secrets: secrets)
        let details = error?["details"]?.arrayValue ?? []
        let errorType = status ?? String(httpStatus)
        var mapped: GatewayError
        // A bad key is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
        if details.contains(where: { $0["reason"]?.stringValue == "API_KEY_INVALID" }) || status == "UNAUTHENTICATED"
            || httpStatus == 401
        {
            mapped = .upstream(clientStatus: 401, message, label: errorType)
        } else if UpstreamErrorText.isContextWindowExceeded(message) {
            mapped = .contextWindowExceeded(message, status: httpStatus)
        } else {
            switch (status, httpStatus) {
            case ("RESOURCE_EXHAUSTED"?, _), (_, 429):
                mapped = .upstream(clientStatus: 429, message, label: errorType)
            case ("PERMISSION_DENIED"?, _), (_, 403):
                mapped = .upstream(clientStatus: 403, message, label: errorType)
            case ("NOT_FOUND"?, _), (_, 404):
                mapped = .upstream(clientStatus: 404, message, label: errorType)
            case ("UNAVAILABLE"?, _), (_, 503):
                mapped = .upstream(
                    clientStatus: 503, message, detail: .init(type: "overloaded_error", code: "overloaded"), label: errorType)
            case ("DEADLINE_EXCEEDED"?, _), (_, 504):
                mapped = .upstream(
                    clientStatus: 504, message, detail: .init(type: "timeout_error", code: "timeout"), label: errorType)
            case ("INTERNAL"?, _), (_, 500):
                mapped = .upstream(clientStatus: 500, message, label: errorType)
            default:
                let clientStatus = UpstreamStatus.clientStatus(forUpstream: httpStatus)
                mapped = .upstream(
                    clientStatus: clientStatus, message, detail: .init(code: status?.lowercased()), label: errorType)
            }
        }
        if let delay = retryDelaySeconds(details) { mapped.headers["retry-after"] = delay }
        return mapped
    }

    /// `RetryInfo.retryDelay` (a protobuf Duration such as `"17s"` or `"0.5s"`) in whole seconds,
    /// rounded up; NaN, infinities and negatives ignored, more than a day clamped to a day.
    static func retryDelaySeconds(_ details: [JSONValue]) -> String? {
        for detail in details where detail["@type"]?.stringValue?.hasSuffix("google.rpc.RetryInfo") == true {
            guard let text = detail["retryDelay"]?.stringValue, text.hasSuffix("s"),
                let wait = OutsideNumber.duration(secondsText: text.dropLast())
            else { continue }
            return String(OutsideNumber.wholeSeconds(wait))
        }
        return nil
    }

    /// The deployment's secrets, key-shaped text, and Google API keys (`AIza` + 35 characters),
    /// which the generic redactor does not recognise.
    static func scrub(_ text: String, secrets: [String]) -> String {
        let scrubbed = SecretRedactor.scrub(text, secrets: secrets)
        var out = ""
        var rest = Substring(scrubbed)
        while let range = rest.firstRange(of: "AIza") {
            out += rest[..<range.lowerBound]
            let tail = rest[range.upperBound...]
            let keyChars = tail.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            out += keyChars.count >= 30 ? SecretRedactor.replacement : "AIza" + keyChars
            rest = tail[keyChars.endIndex...]
        }
        return out + rest
    }
}
