/// Exponential backoff with full jitter, capped; the wait a server asked for (`Retry-After`) wins.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var maxRetries: Int

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), maxRetries: Int = 5) {
        self.initial = initial
        self.maximum = maximum
        self.maxRetries = maxRetries
    }

    /// The wait before retry number `retry` (1-based).
    public func delay(beforeRetry retry: Int, retryAfter: Duration? = nil) -> Duration {
        if let retryAfter { return min(retryAfter, maximum) }
        let exponent = min(max(retry - 1, 0), 20)
        let ceiling = min(initial * (1 << exponent), maximum)
        // Jitter between half and all of the ceiling keeps retries spread without collapsing to zero.
        let fraction = Double.random(in: 0.5...1.0)
        return ceiling * fraction
    }
}
