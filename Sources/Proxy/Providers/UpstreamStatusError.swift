import NIOHTTP1

/// The gateway's error for an upstream failure that says little more than its HTTP status and a
/// message (Cohere's `{"message"}`, Ollama's `{"error"}`): status, type and code per
/// providers.md §9.1, with the context-window signature of §9.2 recognised in the message.
enum UpstreamStatusError {
    /// `message` must already be scrubbed of secrets.
    static func make(status: Int, message: String, headers: HTTPHeaders) -> GatewayError {
        var error: GatewayError
        if [400, 413, 422].contains(status) && UpstreamErrorText.isContextWindowExceeded(message) {
            error = .contextWindowExceeded(message, status: status)
        } else {
            let clientStatus = OpenAIAdapter.clientStatus(forUpstream: status)
            let code = code(forStatus: clientStatus)
            error = GatewayError(
                status: clientStatus, type: OpenAIAdapter.errorType(forStatus: clientStatus), message: message,
                code: code, errorType: code ?? String(status))
        }
        if let retryAfter = OpenAIAdapter.retryAfterSeconds(headers) { error.headers["retry-after"] = retryAfter }
        return error
    }

    static func code(forStatus status: Int) -> String? {
        switch status {
        case 401: "invalid_api_key"
        case 403: "permission_denied"
        case 404: "model_not_found"
        case 408, 504: "timeout"
        case 422: "unprocessable_entity"
        case 429: "rate_limit_exceeded"
        case 500: "internal_error"
        case 502: "bad_gateway"
        case 503: "overloaded"
        default: nil
        }
    }
}
