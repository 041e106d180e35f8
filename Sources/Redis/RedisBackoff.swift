/// Reconnect delays: doubling from a minimum to a maximum, with jitter so that many gateway replicas
/// do not reconnect to a recovering server in lockstep.
struct RedisBackoff: Sendable {
    var minimum: Duration
    var maximum: Duration

    /// The delay after `failures` consecutive failed connects (1 = the first failure): a random value in
    /// [d/2, d] where d = min(minimum · 2^(failures−1), maximum).
    func delay(afterFailures failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 30)
        let minimumNanoseconds = Self.nanoseconds(self.minimum)
        let maximumNanoseconds = max(Self.nanoseconds(self.maximum), minimumNanoseconds)
        let (scaled, overflow) = minimumNanoseconds.multipliedReportingOverflow(by: Int64(1) << exponent)
        let ceiling = overflow ? maximumNanoseconds : min(scaled, maximumNanoseconds)
        guard ceiling > 1 else { return .nanoseconds(max(ceiling, 0)) }
        return .nanoseconds(Int64.random(in: (ceiling / 2)...ceiling))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
