import NIOHTTP1
import Telemetry

/// Bedrock's exceptions (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors)
/// as the gateway's errors. The same table
/// serves HTTP errors and the exception frames of a stream.
enum BedrockError {
    /// The exception name: `x-amzn-ErrorType` (`ValidationException:http://…`), else the body's
    /// `__type` (`com.amazon…#ValidationException`), else its `code`.
    static func name(headers: HTTPHeaders, body: JSONValue?) -> String? {
        let raw = headers.first(name: "x-amzn-errortype") ?? body?["__type"]?.stringValue ?? body?["code"]?.stringValue
        guard let raw else { return nil }
        var name = Substring(raw)
        if let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        if let hash = name.lastIndex(of: "#") { name = name[name.index(after: hash)...] }
        return name.isEmpty ? nil : String(name)
    }

    /// `message` is already scrubbed of secrets. Stream exception types are lower camel case
    /// (`throttlingException`) and are matched the same as the HTTP names.
    static func map(name: String?, message: String, upstreamStatus: Int) -> GatewayError {
        let canonical = name.map { $0.prefix(1).uppercased() + String($0.dropFirst()) }
        // A 400 without a name may be a validation error too.
        let validation = canonical == "ValidationException" || (canonical == nil && [400, 413].contains(upstreamStatus))
        if validation && UpstreamErrorText.isContextWindowExceeded(message) {
            return .contextWindowExceeded(message, status: upstreamStatus)
        }
        let (status, code): (Int, String?) =
            switch canonical {
            case "ValidationException"?, "ConflictException"?: (400, canonical)
            case "ThrottlingException"?, "ServiceQuotaExceededException"?, "ModelNotReadyException"?:
                (429, "rate_limit_exceeded")
            case "AccessDeniedException"?: (403, "permission_denied")
            case "UnrecognizedClientException"?, "InvalidSignatureException"?, "ExpiredTokenException"?,
                "IncompleteSignatureException"?, "MissingAuthenticationTokenException"?, "InvalidClientTokenId"?:
                (401, "invalid_api_key")
            case "ResourceNotFoundException"?: (404, "model_not_found")
            case "ModelTimeoutException"?: (408, "timeout")
            case "ModelErrorException"?, "ModelStreamErrorException"?: (502, "bad_gateway")
            case "InternalServerException"?: (500, "internal_error")
            case "ServiceUnavailableException"?: (503, "overloaded")
            default: (UpstreamStatus.clientStatus(forUpstream: upstreamStatus), canonical)
            }
        // Bedrock's model timeout keeps the gateway's own timeout type.
        let type: String? = status == 408 ? "timeout" : nil
        return .upstream(
            clientStatus: status, message, detail: .init(type: type, code: code), label: canonical ?? String(upstreamStatus))
    }
}
