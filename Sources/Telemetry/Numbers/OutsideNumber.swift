/// Numbers that arrive from outside (headers, bodies, config values) turned into durations and
/// integers without trapping. Swift's `Int(someDouble)` traps on NaN, on infinities and on values
/// out of range, so one header such as `Retry-After: 1e300` used to end the process. Every such
/// conversion goes through here: non-finite and negative values are ignored, huge ones clamped.
public enum OutsideNumber {
    /// The longest wait an outside party may ask for (a day): longer asks are clamped to it.
    public static let maximumWait: Duration = .seconds(86_400)

    /// `seconds` as a duration, at most `maximum`; nil for NaN, infinities and negatives.
    public static func duration(seconds: Double, maximum: Duration = maximumWait) -> Duration? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        let limit = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        guard seconds < limit else { return maximum }
        // Below a day, nanoseconds fit an Int64 many times over.
        return .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }

    /// `value` rounded by `rule`, clamped into `range`; nil for NaN and infinities.
    public static func int(
        _ value: Double, clampedTo range: ClosedRange<Int>, rounding rule: FloatingPointRoundingRule = .up
    ) -> Int? {
        guard value.isFinite else { return nil }
        let rounded = value.rounded(rule)
        // `Double(Int.max)` is 2^63, itself out of range: compare before converting.
        if rounded <= Double(range.lowerBound) { return range.lowerBound }
        if rounded >= Double(range.upperBound) { return range.upperBound }
        return Int(rounded)
    }

    /// `a + b`, held at `Int.max`/`Int.min` instead of trapping: token counts come from upstream
    /// answers, and a counter summing `9e15`-token answers would overflow within a minute.
    public static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// A duration in whole seconds, rounded up (what a `retry-after` header carries).
    public static func wholeSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds < Int64(Int32.max) else { return Int(Int32.max) }
        guard seconds >= 0 else { return 0 }
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }

    /// `Retry-After` style text (delay-seconds) as a duration; nil for anything that is not a
    /// finite, non-negative number.
    public static func duration(secondsText text: some StringProtocol) -> Duration? {
        Double(text.trimmingSpaces).flatMap { duration(seconds: $0) }
    }

    /// Millisecond text (OpenAI's `retry-after-ms`) as a duration, on the same terms.
    public static func duration(millisecondsText text: some StringProtocol) -> Duration? {
        Double(text.trimmingSpaces).flatMap { duration(seconds: $0 / 1000) }
    }
}
