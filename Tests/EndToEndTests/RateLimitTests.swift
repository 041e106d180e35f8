import Foundation
import Testing

@testable import Proxy

@Suite(.serialized) struct RateLimitTests {
    static let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#

    func newKey(_ h: Harness, _ fields: String) async throws -> String {
        try #require(try await h.send("/key/generate", json: fields).json?["key"]?.stringValue)
    }

    @Test func requestsPerMinute() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await newKey(h, #"{"rpm_limit":2}"#)
            let first = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(first.status == 200)
            #expect(first.headers.first(name: "x-ratelimit-limit-requests") == "2")
            #expect(first.headers.first(name: "x-ratelimit-remaining-requests") == "1")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let third = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(third.status == 429 && third.json?["error"]?["type"] == "rate_limit_exceeded")
            let retryAfter = try #require(third.headers.first(name: "retry-after").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 60)
            #expect(third.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            // Another key is not affected.
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: try await newKey(h, #"{"rpm_limit":2}"#)).status == 200)
        }
    }

    @Test func tokensPerMinuteCountWhatWasUsed() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await newKey(h, #"{"tpm_limit":5}"#)
            let first = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(first.status == 200 && first.headers.first(name: "x-ratelimit-remaining-tokens") == "5")
            let second = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(second.status == 429 && second.headers.first(name: "x-ratelimit-remaining-tokens") == "0")
        }
    }

    @Test func parallelRequests() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await newKey(h, #"{"max_parallel_requests":1}"#)
            let slow = #"{"model":"local-slow","messages":[{"role":"user","content":"x"}]}"#
            async let running = h.send("/v1/chat/completions", json: slow, key: key)
            try await Task.sleep(for: .milliseconds(100))
            let refused = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(refused.status == 429 && refused.json?["error"]?["message"] == "This key is limited to 1 requests in parallel.")
            #expect(try await running.status == 200)
            // The slot is free again once the first request settled.
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
        }
    }
}
