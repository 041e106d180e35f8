/// `router_settings.retry_policy` (LiteLLM's names): how many retries each kind of failure gets,
/// in place of `num_retries`. Without an entry, retryable failures (408, 429, 5xx) get
/// `num_retries` and the rest none.
public struct RetryPolicy: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case badRequest = "BadRequestErrorRetries"
        case authentication = "AuthenticationErrorRetries"
        case timeout = "TimeoutErrorRetries"
        case rateLimit = "RateLimitErrorRetries"
        case contentPolicy = "ContentPolicyViolationErrorRetries"
        case internalServer = "InternalServerErrorRetries"

        init(_ failure: Failure) {
            switch failure {
            case .upstream(.contentPolicy): self = .contentPolicy
            case .authentication, .permissionDenied, .upstream(.authentication), .upstream(.permissionDenied):
                self = .authentication
            case .timeout, .upstream(.timeout): self = .timeout
            case .rateLimited, .upstream(.rateLimited), .upstream(.quotaExhausted): self = .rateLimit
            case .noHealthyDeployment, .storeUnavailable, .misconfigured, .internal, .upstream(.serverError),
                .upstream(.badResponse), .upstream(.overloaded), .upstream(.unreachable):
                self = .internalServer
            case .http(let status) where status >= 500: self = .internalServer
            case .invalidRequest, .budgetExceeded, .notFound, .modelNotFound, .conflict, .requestTooLarge, .clientClosed,
                .http, .upstream(.badRequest), .upstream(.contextWindowExceeded), .upstream(.notFound):
                self = .badRequest
            }
        }
    }

    public var retries: [Kind: Int] = [:]

    public init(retries: [Kind: Int] = [:]) {
        self.retries = retries
    }

    /// Retries allowed after `error`, given `numRetries` as the default for retryable failures.
    public func allowed(after error: GatewayError, numRetries: Int) -> Int {
        if let count = retries[Kind(error.failure)] { return count }
        return error.isRetryable ? numRetries : 0
    }

    /// The most attempts any request can make, so plans are long enough.
    public func maxRetries(numRetries: Int) -> Int {
        max(numRetries, retries.values.max() ?? 0)
    }
}
