import Telemetry

/// Exponential backoff with full jitter, capped; the wait a server asked for (`Retry-After`) wins.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var maxRetries: Int
    /// Now, for a `Retry-After` given as an HTTP-date.
    public var clock: any GatewayClock = SystemClock()
    /// How the wait before a retry is spent.
    public var wait: RetryWait = .sleep

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

/// Waits before a retry, returning false when the wait was cut short (shutdown began, or the task
/// was cancelled), after which the delivery gives up. A value rather than a bare sleep so that a
/// test can see the delay a sender chose without spending it.
public struct RetryWait: Sendable {
    let body: @Sendable (_ duration: Duration, _ shouldStop: @escaping @Sendable () -> Bool) async -> Bool

    public init(_ body: @escaping @Sendable (_ duration: Duration, _ shouldStop: @escaping @Sendable () -> Bool) async -> Bool) {
        self.body = body
    }

    /// Sleeps on the monotonic clock, waking every 50 ms to see whether it should stop, so a
    /// dead destination does not hold up shutdown.
    public static let sleep = RetryWait { duration, shouldStop in
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            if shouldStop() { return false }
            do {
                try await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
            } catch {
                return false
            }
        }
        return true
    }
}
