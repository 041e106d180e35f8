import NIOHTTP1
import Testing

@testable import Sinks
@testable import Telemetry

/// Numbers from outside (headers, config) never trap: NaN, infinities and negatives are ignored,
/// huge values are clamped to a day (issue 11, "Crashes from one header").
@Suite struct OutsideNumberTests {
    static let day: Duration = .seconds(86_400)
    /// Values that used to reach `Int64(seconds * 1000)` and trap, or nonsense to be ignored.
    static let hostile = ["nan", "NaN", "-nan", "inf", "-inf", "infinity", "-1", "-0.5", "1e300", "1.7976931348623157e308"]

    @Test func durationsIgnoreNonFiniteAndNegativeAndClampHugeValues() {
        #expect(OutsideNumber.duration(seconds: .nan) == nil)
        #expect(OutsideNumber.duration(seconds: .infinity) == nil)
        #expect(OutsideNumber.duration(seconds: -.infinity) == nil)
        #expect(OutsideNumber.duration(seconds: -1) == nil)
        #expect(OutsideNumber.duration(seconds: 1e300) == Self.day)
        #expect(OutsideNumber.duration(seconds: .greatestFiniteMagnitude) == Self.day)
        #expect(OutsideNumber.duration(seconds: 86_401) == Self.day)
        #expect(OutsideNumber.duration(seconds: 0) == .zero)
        #expect(OutsideNumber.duration(seconds: 1.5) == .milliseconds(1500))
        #expect(OutsideNumber.duration(millisecondsText: "nan") == nil)
        #expect(OutsideNumber.duration(millisecondsText: "1e300") == Self.day)
        #expect(OutsideNumber.duration(millisecondsText: "250") == .milliseconds(250))
    }

    @Test func integersAreClampedAndNonFiniteIgnored() {
        #expect(OutsideNumber.int(.nan, clampedTo: 0...10) == nil)
        #expect(OutsideNumber.int(.infinity, clampedTo: 0...10) == nil)
        #expect(OutsideNumber.int(1e300, clampedTo: 1...86_400) == 86_400)
        #expect(OutsideNumber.int(-1e300, clampedTo: 1...86_400) == 1)
        #expect(OutsideNumber.int(9.3e18, clampedTo: Int.min...Int.max) == Int.max)
        #expect(OutsideNumber.int(2.2, clampedTo: 0...10) == 3)
        #expect(OutsideNumber.int(2.2, clampedTo: 0...10, rounding: .down) == 2)
        #expect(OutsideNumber.wholeSeconds(.milliseconds(1001)) == 2)
        #expect(OutsideNumber.wholeSeconds(.seconds(Int64.max)) == Int(Int32.max))
    }

    @Test func retryAfterDelaySeconds() {
        for text in Self.hostile {
            let parsed = RetryAfter.parse(text, nowSeconds: 0)
            #expect(parsed == nil || parsed == Self.day, "\(text)")
        }
        #expect(RetryAfter.parse("1e300") == Self.day)
        #expect(RetryAfter.parse("nan") == nil)
        #expect(RetryAfter.parse("-1") == nil)
        #expect(RetryAfter.parse("99999999999999999999999999") == Self.day, "a huge integer string")
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse(" 0.5 ") == .milliseconds(500))
    }

    @Test func retryAfterDatesOutOfRangeAreIgnored() {
        let now = 784_111_777  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:50:37 GMT", nowSeconds: now) == .seconds(60))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:48:37 GMT", nowSeconds: now) == .zero, "a past date: retry now")
        // Years and fields that trapped in `Int32(...)`, or overflowed `year - 1900`.
        for date in [
            "Sun, 06 Nov 99999999999 08:49:37 GMT", "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",
            "Sun, 06 Nov -9223372036854775808 08:49:37 GMT", "Sun, 99999999999 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 99999999999:49:37 GMT", "Sun, 06 Nov 1994 08:49:9223372036854775807 GMT",
        ] {
            #expect(RetryAfter.parse(date, nowSeconds: now) == nil, "\(date)")
        }
        // Far but valid: clamped to a day.
        #expect(RetryAfter.parse("Fri, 31 Dec 9999 23:59:59 GMT", nowSeconds: now) == Self.day)
    }

    @Test func sentryRateLimitHeaderNeverTraps() {
        for text in Self.hostile {
            let wait = SentryRateLimits.wait("\(text):error:organization", category: "error")
            #expect(wait == nil || wait == Self.day, "\(text)")
        }
        #expect(SentryRateLimits.wait("1e300:error:organization", category: "error") == Self.day)
        #expect(SentryRateLimits.wait("nan:error:organization, 30:error:key", category: "error") == .seconds(30))
        var headers = HTTPHeaders()
        headers.add(name: "retry-after", value: "1e300")
        #expect(SentryRateLimits.errorWait(status: 429, headers: headers) == Self.day)
        headers.replaceOrAdd(name: "retry-after", value: "nan")
        #expect(SentryRateLimits.errorWait(status: 429, headers: headers) == SentryRateLimits.defaultWait)
    }

    @Test func backoffHonoursAClampedRetryAfter() {
        let backoff = Backoff(maximum: .seconds(30))
        let asked = RetryAfter.parse("1e300")
        #expect(backoff.delay(beforeRetry: 1, retryAfter: asked) == .seconds(30))
    }
}
