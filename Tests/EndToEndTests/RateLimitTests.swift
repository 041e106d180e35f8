import Foundation
import GatewayTesting
import Testing

@testable import Proxy

/// Per-key limits through the gateway. The gateway's clock is stopped 15 seconds into a minute, so
/// every request of a test falls in one window whenever the test runs.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RateLimitTests {
    static let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#

    @Test func requestsPerMinute() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            let key = try await h.newKey(#"{"rpm_limit":2}"#)
            let first = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(first.status == 200)
            #expect(first.headers.first(name: "x-ratelimit-limit-requests") == "2")
            #expect(first.headers.first(name: "x-ratelimit-remaining-requests") == "1")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let third = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(third.status == 429 && third.json?["error"]?["type"] == "rate_limit_exceeded")
            // The 45 seconds left of the minute.
            #expect(third.headers.first(name: "retry-after") == "45")
            #expect(third.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            // Another key is not affected.
            #expect(
                try await h.send("/v1/chat/completions", json: Self.body, key: try await h.newKey(#"{"rpm_limit":2}"#)).status
                    == 200)
            // The next minute admits the key again.
            clock.advance(by: .seconds(45))
            let later = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(later.status == 200 && later.headers.first(name: "x-ratelimit-remaining-requests") == "1")
        }
    }

    @Test func tokensPerMinuteCountWhatWasUsed() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            let key = try await h.newKey(#"{"tpm_limit":5}"#)
            let first = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(first.status == 200 && first.headers.first(name: "x-ratelimit-remaining-tokens") == "5")
            let second = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(second.status == 429 && second.headers.first(name: "x-ratelimit-remaining-tokens") == "0")
            clock.advance(by: .seconds(45))
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
        }
    }

    /// The first request is held at the upstream (which says when it arrived), so the second one
    /// certainly overlaps it.
    @Test func parallelRequests() async throws {
        let upstream = GatedUpstream()
        try await withTestServer(upstream.router()) { port in
            let config = e2eConfig.replacingOccurrences(
                of: "model_list:\n",
                with:
                    "model_list:\n  - model_name: gated\n    litellm_params: {model: openai/gate-head, api_base: \"http://127.0.0.1:\(port)/v1\", api_key: k}\n"
            )
            try await Harness.with(config: config, otlp: false, clock: TestTime.clock()) { h in
                let key = try await h.newKey(#"{"max_parallel_requests":1}"#)
                let gated = #"{"model":"gated","stream":true,"messages":[{"role":"user","content":"x"}]}"#
                async let running = h.send("/v1/chat/completions", json: gated, key: key)
                var arrivals = upstream.arrivals.makeAsyncIterator()
                #expect(await arrivals.next() == "gate-head")
                let refused = try await h.send("/v1/chat/completions", json: Self.body, key: key)
                #expect(
                    refused.status == 429
                        && refused.json?["error"]?["message"] == "This key is limited to 1 requests in parallel.")
                upstream.release()
                let first = try await running
                #expect(first.status == 200 && first.text.hasSuffix("data: [DONE]\n\n"))
                // The slot is free again once the first request settled.
                #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            }
        }
    }
}
