import Telemetry

/// Why a request failed: what retries, cooldowns and fallbacks decide on. The wire shape a client
/// sees (`GatewayError.body`, and Anthropic's shape built from it) is derived from it in this
/// file; nothing branches on the strings.
public enum Failure: Sendable, Hashable {
    /// The client's request is malformed; `GatewayError.param` names the field.
    case invalidRequest
    /// A spent budget refused the request.
    case budgetExceeded
    case authentication
    case permissionDenied
    /// An admin entity or route that does not exist.
    case notFound
    /// The model the client asked for is not configured.
    case modelNotFound
    /// An admin entity that already exists.
    case conflict
    /// The request body is over the gateway's limit.
    case requestTooLarge
    /// The gateway's own rate limits refused the request.
    case rateLimited
    /// The client went away, or cancelled, before the answer.
    case clientClosed
    /// A wait the gateway bounds ran out (an upstream's answer, a stream's duration).
    case timeout
    /// Every deployment of the group is cooling down.
    case noHealthyDeployment
    /// The key store could not be reached.
    case storeUnavailable
    /// A deployment that cannot be called as configured: the operator's problem, not the client's.
    case misconfigured
    case `internal`
    /// A status the HTTP server itself answered with (no route, wrong method).
    case http(status: Int)
    /// The upstream provider failed.
    case upstream(UpstreamFailure)
}

/// An upstream failure by kind, as the router treats it.
public enum UpstreamFailure: Sendable, Hashable {
    /// The provider refused the request as malformed (400, 409, 422, …).
    case badRequest
    /// The prompt does not fit the model's context window: fall back to a bigger model.
    case contextWindowExceeded
    /// A content-policy refusal: fall back to another provider.
    case contentPolicy
    case authentication
    case permissionDenied
    /// The model or deployment does not exist at the provider.
    case notFound
    case timeout
    case rateLimited
    /// An exhausted quota or balance: retrying will not pass.
    case quotaExhausted
    case serverError
    /// A malformed, truncated or oversized answer, or a failure mid-stream.
    case badResponse
    case overloaded
    /// The upstream could not be reached.
    case unreachable

    /// The kind an upstream's HTTP status says, once mapped to the status the client gets, and
    /// OpenAI's `insufficient_quota` code, the one 429 that retrying cannot pass.
    public init(clientStatus status: Int, code: String? = nil) {
        if status == 429 && code == "insufficient_quota" {
            self = .quotaExhausted
            return
        }
        switch status {
        case 401: self = .authentication
        case 403: self = .permissionDenied
        case 404: self = .notFound
        case 408, 504: self = .timeout
        case 429: self = .rateLimited
        case 400..<500: self = .badRequest
        case 502: self = .badResponse
        case 503: self = .overloaded
        default: self = .serverError
        }
    }
}

extension Failure {
    /// Whether another attempt (here or on another deployment) might succeed.
    public var isRetryable: Bool {
        switch self {
        case .timeout, .noHealthyDeployment, .storeUnavailable, .misconfigured, .internal, .rateLimited: true
        case .upstream(let kind):
            switch kind {
            case .timeout, .rateLimited, .serverError, .badResponse, .overloaded, .unreachable: true
            case .badRequest, .contextWindowExceeded, .contentPolicy, .authentication, .permissionDenied, .notFound,
                .quotaExhausted:
                false
            }
        case .http(let status): status == 408 || status == 429 || status >= 500
        case .invalidRequest, .budgetExceeded, .authentication, .permissionDenied, .notFound, .modelNotFound, .conflict,
            .requestTooLarge, .clientClosed:
            false
        }
    }

    /// Whether the failure says the deployment, not the request, is at fault: a dead key, a
    /// missing model, a rate limit, or the provider failing.
    public var isProvidersFault: Bool {
        switch self {
        case .authentication, .permissionDenied, .modelNotFound, .notFound: true
        case .upstream(.authentication), .upstream(.permissionDenied), .upstream(.notFound): true
        case .http(let status): [401, 403, 404].contains(status) || isRetryable
        default: isRetryable
        }
    }

    /// A failure that puts the deployment in cooldown at once, without waiting for `allowed_fails`:
    /// a rejected key, a missing model, a rate limit or exhausted quota.
    public var coolsDownAtOnce: Bool {
        switch self {
        case .authentication, .notFound, .modelNotFound, .rateLimited: true
        case .upstream(.authentication), .upstream(.notFound), .upstream(.rateLimited), .upstream(.quotaExhausted): true
        case .http(let status): [401, 404, 429].contains(status)
        default: false
        }
    }

    /// Whether the failure counts towards the deployment's `allowed_fails`: a timeout or a
    /// server-side failure, on top of the ones that cool it down at once.
    public var countsAgainstDeployment: Bool {
        switch self {
        case .timeout, .noHealthyDeployment, .storeUnavailable, .misconfigured, .internal: true
        case .upstream(.timeout), .upstream(.serverError), .upstream(.badResponse), .upstream(.overloaded),
            .upstream(.unreachable):
            true
        case .http(let status): status == 408 || status >= 500 || coolsDownAtOnce
        default: coolsDownAtOnce
        }
    }

}

/// An error the gateway answers with: a `Failure` and the words for the client, always rendered
/// OpenAI-shaped, `{"error":{"message","type","param","code"}}`, with the matching status.
public struct GatewayError: Error, Sendable, Equatable {
    public let failure: Failure
    public var message: String
    public var param: String?
    /// Extra response headers (`retry-after`).
    public var headers: [String: String]
    /// The HTTP status the client gets.
    public let status: Int
    /// OpenAI's `error.type`.
    public let type: String
    /// OpenAI's `error.code`.
    public let code: String?
    /// Low-cardinality `error.type` for spans and metrics.
    public let errorType: String

    /// A more specific OpenAI `type` and `code` than a failure's defaults (a nil code is sent as
    /// null): often the provider's own words, passed through.
    public struct Detail: Sendable, Equatable {
        public var type: String?
        public var code: String?

        public init(type: String? = nil, code: String?) {
            self.type = type
            self.code = code
        }
    }

    /// `status` is needed only where a failure's status varies (an upstream's, a conflict's);
    /// `label` names the failure on spans and metrics when its code does not.
    public init(
        _ failure: Failure, _ message: String, param: String? = nil, status: Int? = nil, detail: Detail? = nil,
        label: String? = nil, headers: [String: String] = [:]
    ) {
        self.failure = failure
        self.message = message
        self.param = param
        self.headers = headers
        let shape = Shape(failure, status: status)
        self.status = shape.status
        self.type = detail?.type ?? shape.type
        self.code = detail.map(\.code) ?? shape.code
        let named = detail.map(\.code) ?? shape.label ?? shape.code
        self.errorType = label ?? named ?? String(shape.status)
    }

    /// The status, OpenAI type, code and span label of each failure.
    private struct Shape {
        var status: Int
        var type: String
        var code: String?
        var label: String?

        init(_ failure: Failure, status given: Int?) {
            switch failure {
            case .invalidRequest: (status, type, code, label) = (400, "invalid_request_error", nil, "invalid_request")
            // LiteLLM answers 422 since 1.104 (`budget_exceeded_status_code` changes it).
            case .budgetExceeded: (status, type, code) = (422, "budget_exceeded", "budget_exceeded")
            case .authentication: (status, type, code, label) = (401, "authentication_error", "invalid_api_key", "authentication")
            case .permissionDenied: (status, type, code, label) = (403, "permission_denied", nil, "permission_denied")
            case .notFound: (status, type, code) = (404, "invalid_request_error", "not_found")
            case .modelNotFound: (status, type, code) = (404, "invalid_request_error", "model_not_found")
            case .conflict: (status, type, code) = (409, "invalid_request_error", nil)
            case .requestTooLarge: (status, type, code) = (413, "invalid_request_error", "request_too_large")
            case .rateLimited: (status, type, code, label) = (429, "rate_limit_exceeded", "rate_limit_exceeded", "rate_limited")
            case .clientClosed: (status, type, code, label) = (499, "api_error", nil, "cancelled")
            case .timeout: (status, type, code) = (408, "timeout", "timeout")
            // LiteLLM's `RouterRateLimitError`: a 429 with `retry-after`, so clients back off.
            case .noHealthyDeployment: (status, type, code) = (429, "all_deployments_in_cooldown", "no_healthy_deployment")
            case .storeUnavailable: (status, type, code, label) = (503, "api_error", nil, "store_unavailable")
            case .misconfigured: (status, type, code) = (500, "api_error", "invalid_deployment_config")
            case .internal: (status, type, code, label) = (500, "api_error", nil, "internal")
            case .http(let value):
                let type = value == 404 ? "not_found_error" : (400..<500).contains(value) ? "invalid_request_error" : "api_error"
                (status, self.type, code) = (value, type, nil)
            case .upstream(let kind):
                switch kind {
                case .contextWindowExceeded:
                    (status, type, code) = (given == 413 ? 413 : 400, "invalid_request_error", "context_length_exceeded")
                case .contentPolicy: (status, type, code) = (400, "invalid_request_error", "content_policy_violation")
                case .quotaExhausted: (status, type, code) = (429, "insufficient_quota", "insufficient_quota")
                case .unreachable: (status, type, code) = (502, "api_error", "upstream_unavailable")
                case .badResponse where given == nil: (status, type, code) = (502, "api_error", "bad_upstream_response")
                default:
                    let value = given ?? 502
                    (status, type, code) = (value, Self.openAIType(forStatus: value), Self.openAICode(forStatus: value))
                }
                return
            }
            if let given { status = given }
        }

        /// OpenAI's `error.type` for an upstream status.
        static func openAIType(forStatus status: Int) -> String {
            switch status {
            case 401: "authentication_error"
            case 403: "permission_denied"
            case 404: "not_found_error"
            case 429: "rate_limit_exceeded"
            case 400..<500: "invalid_request_error"
            default: "api_error"
            }
        }

        /// The gateway's code for an upstream status with nothing more specific.
        static func openAICode(forStatus status: Int) -> String? {
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

    public var isRetryable: Bool { failure.isRetryable }
    public var isContextWindowExceeded: Bool { failure == .upstream(.contextWindowExceeded) }
    public var isContentPolicyViolation: Bool { failure == .upstream(.contentPolicy) }

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

extension GatewayError {
    /// A client error; `code` is a more specific reason than "invalid request".
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(.invalidRequest, message, param: param, detail: code.map { Detail(code: $0) })
    }

    public static func authentication(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(.authentication, message, param: param)
    }

    public static func permissionDenied(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(.permissionDenied, message, param: param, detail: code.map { Detail(code: $0) })
    }

    public static func modelNotFound(_ model: String) -> GatewayError {
        GatewayError(
            .modelNotFound, "The model '\(model)' does not exist or is not configured on this gateway.", param: "model")
    }

    public static func notFound(_ message: String) -> GatewayError {
        GatewayError(.notFound, message)
    }

    public static func payloadTooLarge(limit: Int) -> GatewayError {
        // The rest of the body is never read, so the connection cannot be reused.
        GatewayError(
            .requestTooLarge, "Request body is larger than the gateway's limit of \(limit) bytes.",
            headers: ["connection": "close"])
    }

    public static func timeout(_ message: String) -> GatewayError {
        GatewayError(.timeout, message)
    }

    public static func storeUnavailable() -> GatewayError {
        GatewayError(.storeUnavailable, "The key store is unavailable.")
    }

    public static func misconfigured(_ message: String) -> GatewayError {
        GatewayError(.misconfigured, message)
    }

    /// The upstream could not be reached; `label` says how (`connection_error`, `invalid_url`).
    public static func upstreamUnavailable(_ message: String, errorType label: String) -> GatewayError {
        GatewayError(.upstream(.unreachable), message, label: label)
    }

    public static func badUpstreamResponse(_ message: String) -> GatewayError {
        GatewayError(.upstream(.badResponse), message)
    }

    public static func `internal`(_ message: String) -> GatewayError {
        GatewayError(.internal, message)
    }

    /// A prompt too long for the model's context window; an upstream 413 stays a 413.
    public static func contextWindowExceeded(_ message: String, status: Int = 400, param: String? = nil) -> GatewayError {
        GatewayError(.upstream(.contextWindowExceeded), message, param: param, status: status)
    }

    public static func contentPolicyViolation(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(.upstream(.contentPolicy), message, param: param)
    }

    /// An upstream failure known by the status the client gets (`clientStatus`), with the
    /// provider's own words where it gave any.
    public static func upstream(
        clientStatus: Int, _ message: String, param: String? = nil, detail: Detail? = nil, label: String? = nil
    ) -> GatewayError {
        let kind = UpstreamFailure(clientStatus: clientStatus, code: detail?.code)
        return GatewayError(.upstream(kind), message, param: param, status: clientStatus, detail: detail, label: label)
    }
}
