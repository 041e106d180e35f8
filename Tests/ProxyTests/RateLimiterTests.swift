import GatewayTesting
import Testing

@testable import Proxy

/// The per-minute windows, parallel slots and `x-ratelimit-*` headers, at instants the test picks.
@Suite struct RateLimiterTests {
    /// 15 seconds into a minute: a refusal's `retry-after` is the 45 seconds left of it.
    static let now = TestTime.minuteStart + 15

    static func subject(
        _ id: String, kind: String = "key", rpm: Int? = nil, tpm: Int? = nil, parallel: Int? = nil
    ) -> LimitSubject {
        LimitSubject(id: id, kind: kind, name: id, models: [], rpm: rpm, tpm: tpm, parallel: parallel, maxBudget: nil, spend: 0)
    }

    static func headers(_ ticket: RateLimiter.Ticket?) -> [String: String] {
        Dictionary((ticket?.headers ?? []).map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
    }

    /// The refusal `acquire` throws, or nil when it admitted the request.
    static func refusal(_ limiter: RateLimiter, _ subjects: [LimitSubject], now: Double = now) -> GatewayError? {
        do throws(GatewayError) {
            _ = try limiter.acquire(subjects, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func subjectsWithoutRateLimitsGetNoTicket() throws {
        let ticket = try RateLimiter().acquire(
            [LimitSubject(id: "key:a", kind: "key", name: "a", models: [], maxBudget: 5, spend: 0)], now: Self.now)
        #expect(ticket == nil)
    }

    @Test func requestsPerMinuteCountDownThenRefuseUntilTheNextMinute() throws {
        let limiter = RateLimiter()
        let key = [Self.subject("key:a", rpm: 2)]
        let first = try limiter.acquire(key, now: Self.now)
        #expect(Self.headers(first) == ["x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "1"])
        let second = try limiter.acquire(key, now: Self.now + 1)
        #expect(Self.headers(second)["x-ratelimit-remaining-requests"] == "0")

        let refused = try #require(Self.refusal(limiter, key, now: Self.now + 2))
        #expect(refused.status == 429 && refused.type == "rate_limit_exceeded")
        #expect(refused.message == "This key is limited to 2 requests per minute.")
        // 17 seconds into the minute: 43 left.
        #expect(refused.headers["retry-after"] == "43")
        #expect(refused.headers["x-ratelimit-limit-requests"] == "2" && refused.headers["x-ratelimit-remaining-requests"] == "0")

        // The last instant of the minute is still in it; the next minute starts afresh.
        #expect(Self.refusal(limiter, key, now: TestTime.minuteStart + 59.999) != nil)
        let next = try limiter.acquire(key, now: TestTime.minuteStart + 60)
        #expect(Self.headers(next)["x-ratelimit-remaining-requests"] == "1")
    }

    @Test func aRefusalAtTheLastSecondWaitsAtLeastOne() throws {
        let limiter = RateLimiter()
        let key = [Self.subject("key:a", rpm: 1)]
        _ = try limiter.acquire(key, now: TestTime.minuteStart + 59.5)
        #expect(Self.refusal(limiter, key, now: TestTime.minuteStart + 59.5)?.headers["retry-after"] == "1")
    }

    @Test func tokensPerMinuteCountWhatSettledRequestsUsed() async throws {
        let limiter = RateLimiter()
        let key = [Self.subject("key:a", tpm: 100)]
        let first = try #require(try limiter.acquire(key, now: Self.now))
        #expect(Self.headers(first) == ["x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "100"])
        await limiter.release(first, tokens: 60, now: Self.now)
        let second = try #require(try limiter.acquire(key, now: Self.now))
        #expect(Self.headers(second)["x-ratelimit-remaining-tokens"] == "40")
        // Admitted on what was used so far; its own 50 tokens take the window past the limit.
        await limiter.release(second, tokens: 50, now: Self.now)
        let refused = try #require(Self.refusal(limiter, key))
        #expect(refused.status == 429 && refused.message == "This key is limited to 100 tokens per minute.")
        #expect(refused.headers["x-ratelimit-remaining-tokens"] == "0" && refused.headers["retry-after"] == "45")
        let next = try limiter.acquire(key, now: TestTime.minuteStart + 60)
        #expect(Self.headers(next)["x-ratelimit-remaining-tokens"] == "100")
    }

    @Test func parallelSlotsAreHeldUntilReleasedAcrossMinutes() async throws {
        let limiter = RateLimiter()
        let key = [Self.subject("key:a", parallel: 1)]
        let running = try #require(try limiter.acquire(key, now: Self.now))
        let refused = try #require(Self.refusal(limiter, key))
        #expect(refused.status == 429 && refused.message == "This key is limited to 1 requests in parallel.")
        #expect(refused.headers["retry-after"] == "1")
        // A new minute does not free a slot that is still held.
        #expect(Self.refusal(limiter, key, now: TestTime.minuteStart + 61) != nil)
        await limiter.release(running, tokens: 0, now: TestTime.minuteStart + 61)
        #expect(try limiter.acquire(key, now: TestTime.minuteStart + 61) != nil)
    }

    @Test func theTightestSubjectSetsTheHeaders() throws {
        let limiter = RateLimiter()
        let ticket = try limiter.acquire(
            [Self.subject("key:a", rpm: 10), Self.subject("team:t", kind: "team", rpm: 3)], now: Self.now)
        #expect(Self.headers(ticket) == ["x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "2"])
    }

    /// A request one subject refuses is counted against none of the others.
    @Test func admissionIsAllOrNothing() throws {
        let limiter = RateLimiter()
        let team = Self.subject("team:t", kind: "team", rpm: 2)
        let keyA = Self.subject("key:a", rpm: 1)
        _ = try limiter.acquire([keyA, team], now: Self.now)
        let refused = try #require(Self.refusal(limiter, [keyA, team]))
        #expect(refused.message == "This key is limited to 1 requests per minute.")
        // The team has one request left, not zero.
        let other = try limiter.acquire([Self.subject("key:b", rpm: 5), team], now: Self.now)
        #expect(Self.headers(other) == ["x-ratelimit-limit-requests": "2", "x-ratelimit-remaining-requests": "0"])
        let teamRefusal = try #require(Self.refusal(limiter, [Self.subject("key:c", rpm: 5), team]))
        #expect(teamRefusal.message == "This team is limited to 2 requests per minute.")
    }

    /// Token counts are the upstream's: two huge ones must not trap when added.
    @Test func releaseSaturatesHugeTokenCounts() async throws {
        let limiter = RateLimiter()
        let key = [Self.subject("key:a", tpm: 10)]
        let first = try #require(try limiter.acquire(key, now: Self.now))
        let second = try #require(try limiter.acquire(key, now: Self.now))
        await limiter.release(first, tokens: .max, now: Self.now)
        await limiter.release(second, tokens: .max, now: Self.now)
        #expect(Self.refusal(limiter, key)?.headers["x-ratelimit-remaining-tokens"] == "0")
    }
}
