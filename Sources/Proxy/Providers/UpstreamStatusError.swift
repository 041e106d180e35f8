import NIOHTTP1

/// The gateway's error for an upstream failure that says little more than its HTTP status and a
/// message (Cohere's `{"message"}`, Ollama's `{"error"}`), with a prompt over the context window
/// recognised in the message.
enum UpstreamStatusError {
    /// `message` must already be scrubbed of secrets.
    static func make(status: Int, message: String, headers: HTTPHeaders) -> GatewayError {
        var error: GatewayError
        if [400, 413, 422].contains(status) && UpstreamErrorText.isContextWindowExceeded(message) {
            error = .contextWindowExceeded(message, status: status)
        } else {
            let clientStatus = UpstreamStatus.clientStatus(forUpstream: status)
            error = .upstream(clientStatus: clientStatus, message)
            // Named on spans by the upstream's own status when the gateway has no code for it.
            if error.code == nil { error = .upstream(clientStatus: clientStatus, message, label: String(status)) }
        }
        if let retryAfter = UpstreamStatus.retryAfterSeconds(headers) { error.headers["retry-after"] = retryAfter }
        return error
    }
}
