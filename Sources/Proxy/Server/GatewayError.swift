import Telemetry

/// An error the gateway answers with: always rendered OpenAI-shaped,
/// `{"error":{"message","type","param","code"}}`, with the matching status.
public struct GatewayError: Error, Sendable, Equatable {
    public var status: Int
    public var type: String
    public var message: String
    public var param: String?
    public var code: String?
    /// Extra response headers (`retry-after`).
    public var headers: [String: String]
    /// Low-cardinality `error.type` for spans and metrics.
    public var errorType: String

    public init(
        status: Int, type: String, message: String, param: String? = nil, code: String? = nil,
        headers: [String: String] = [:], errorType: String? = nil
    ) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers
        self.errorType = errorType ?? code ?? String(status)
    }

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(status: 400, type: "invalid_request_error", message: message, param: param, code: code,
            errorType: code ?? "invalid_request")
    }

    public static func authentication(_ message: String) -> GatewayError {
        GatewayError(status: 401, type: "authentication_error", message: message, code: "invalid_api_key",
            errorType: "authentication")
    }

    public static func modelNotFound(_ model: String) -> GatewayError {
        GatewayError(status: 404, type: "invalid_request_error",
            message: "The model '\(model)' does not exist or is not configured on this gateway.", param: "model",
            code: "model_not_found")
    }

    public static func notFound(_ message: String) -> GatewayError {
        GatewayError(status: 404, type: "invalid_request_error", message: message, code: "not_found")
    }

    public static func payloadTooLarge(limit: Int) -> GatewayError {
        // The rest of the body is never read, so the connection cannot be reused.
        GatewayError(status: 413, type: "invalid_request_error",
            message: "Request body is larger than the gateway's limit of \(limit) bytes.", code: "request_too_large",
            headers: ["connection": "close"])
    }

    public static func timeout(_ message: String) -> GatewayError {
        GatewayError(status: 408, type: "timeout", message: message, code: "timeout", errorType: "timeout")
    }

    public static func upstreamUnavailable(_ message: String, errorType: String) -> GatewayError {
        GatewayError(status: 502, type: "api_error", message: message, code: "upstream_unavailable",
            errorType: errorType)
    }

    public static func badUpstreamResponse(_ message: String) -> GatewayError {
        GatewayError(status: 502, type: "api_error", message: message, code: "bad_upstream_response",
            errorType: "bad_upstream_response")
    }

    public static func `internal`(_ message: String) -> GatewayError {
        GatewayError(status: 500, type: "api_error", message: message, errorType: "internal")
    }

    /// Whether another attempt (here or on another deployment) might succeed.
    /// An exhausted quota or balance (HTTP 429 `insufficient_quota`) is not: it will not pass.
    public var isRetryable: Bool {
        (status == 408 || status == 429 || status >= 500) && code != "insufficient_quota"
    }

    public var body: JSONValue {
        .object([
            "error": .object([
                "message": .string(message),
                "type": .string(type),
                "param": param.map(JSONValue.string) ?? .null,
                "code": code.map(JSONValue.string) ?? .null,
            ])
        ])
    }
}
