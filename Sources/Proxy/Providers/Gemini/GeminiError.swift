import Sinks
import Telemetry

/// Google's error bodies (`google.rpc.Status` as JSON, providers.md §5.6) as the gateway's
/// OpenAI-shaped errors (§9.1). Used for HTTP errors and for `{"error":…}` events inside a stream.
enum GeminiError {
    static func gatewayError(_ error: JSONValue?, httpStatus: Int, secrets: [String]) -> GatewayError {
        let status = error?["status"]?.stringValue
        let message = scrub(error?["message"]?.stringValue ?? "The upstream provider answered HTTP \(httpStatus).", secrets: secrets)
        let details = error?["details"]?.arrayValue ?? []
        let errorType = status ?? String(httpStatus)
        var mapped: GatewayError
        // A bad key is a 400 INVALID_ARGUMENT whose ErrorInfo says API_KEY_INVALID.
        if details.contains(where: { $0["reason"]?.stringValue == "API_KEY_INVALID" }) || status == "UNAUTHENTICATED"
            || httpStatus == 401
        {
            mapped = GatewayError(
                status: 401, type: "authentication_error", message: message, code: "invalid_api_key", errorType: errorType)
        } else if UpstreamErrorText.isContextWindowExceeded(message) {
            mapped = .contextWindowExceeded(message, status: httpStatus)
        } else {
            switch (status, httpStatus) {
            case ("RESOURCE_EXHAUSTED"?, _), (_, 429):
                mapped = GatewayError(
                    status: 429, type: "rate_limit_exceeded", message: message, code: "rate_limit_exceeded", errorType: errorType)
            case ("PERMISSION_DENIED"?, _), (_, 403):
                mapped = GatewayError(
                    status: 403, type: "permission_denied", message: message, code: "permission_denied", errorType: errorType)
            case ("NOT_FOUND"?, _), (_, 404):
                mapped = GatewayError(
                    status: 404, type: "not_found_error", message: message, code: "model_not_found", errorType: errorType)
            case ("UNAVAILABLE"?, _), (_, 503):
                mapped = GatewayError(
                    status: 503, type: "overloaded_error", message: message, code: "overloaded", errorType: errorType)
            case ("DEADLINE_EXCEEDED"?, _), (_, 504):
                mapped = GatewayError(status: 504, type: "timeout_error", message: message, code: "timeout", errorType: errorType)
            case ("INTERNAL"?, _), (_, 500):
                mapped = GatewayError(status: 500, type: "api_error", message: message, code: "internal_error", errorType: errorType)
            default:
                let clientStatus = OpenAIAdapter.clientStatus(forUpstream: httpStatus)
                mapped = GatewayError(
                    status: clientStatus, type: OpenAIAdapter.errorType(forStatus: clientStatus), message: message,
                    code: status?.lowercased(), errorType: errorType)
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
