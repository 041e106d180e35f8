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

        init?(_ error: GatewayError) {
            switch error.status {
            case _ where error.isContentPolicyViolation: self = .contentPolicy
            case 401, 403: self = .authentication
            case 408, 504: self = .timeout
            case 429: self = .rateLimit
            case 400..<500: self = .badRequest
            case 500...: self = .internalServer
            default: return nil
            }
        }
    }

    public var retries: [Kind: Int] = [:]

    public init(retries: [Kind: Int] = [:]) {
        self.retries = retries
    }

    /// Retries allowed after `error`, given `numRetries` as the default for retryable failures.
    public func allowed(after error: GatewayError, numRetries: Int) -> Int {
        if let kind = Kind(error), let count = retries[kind] { return count }
        return error.isRetryable ? numRetries : 0
    }

    /// The most attempts any request can make, so plans are long enough.
    public func maxRetries(numRetries: Int) -> Int {
        max(numRetries, retries.values.max() ?? 0)
    }
}
