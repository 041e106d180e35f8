import Foundation
import GatewayTesting
import Testing

@testable import Proxy

/// Models added, changed and deleted through one replica's admin API reach the others at once,
/// through the store's change notice published on Redis; each replica reloads them from the
/// shared database. Needs a Redis (`SPANWAY_TEST_REDIS_URL`); under CI a missing one fails.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: testRedisURL != nil || ProcessInfo.processInfo.environment["CI"] != nil,
        "no Redis: run `eval \"$(scripts/test-services.sh)\"` to start one"))
struct ModelReplicaTests {
    static func listed(_ h: Harness) async throws -> [String] {
        try await h.send("/v1/models", method: .GET).json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    static func chat(_ h: Harness, _ model: String) async throws -> Int {
        try await h.send("/v1/chat/completions", json: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#)
            .status
    }

    @Test(arguments: ModelStoreBackend.all) func changesReachTheOtherReplica(_ backend: ModelStoreBackend) async throws {
        let url = try #require(testRedisURL, "CI starts a Redis (scripts/test-services.sh)")
        let config = SharedStateTests.config(redis: url)
        try await backend.withGatewayStore { wrap, shared in
            try await Harness.with(config: config, otlp: false, wrapStore: wrap, sharing: shared) { first in
                try await Harness.with(config: config, otlp: false, wrapStore: wrap, sharing: shared) { second in
                    // Both have read the (empty) stored models before the change.
                    #expect(try await Self.listed(second) == ["gpt-4o-mini"])
                    let created = try await first.send(
                        "/model/new",
                        json:
                            #"{"model_name":"shared","litellm_params":{"model":"mock/gpt-4o-mini","api_key":"lit-9"},"model_info":{"id":"sh-1"}}"#
                    )
                    #expect(created.status == 200, "\(created.text)")
                    try await second.eventually("the second replica serves the new model") {
                        try await Self.listed(second) == ["gpt-4o-mini", "shared"]
                    }
                    #expect(try await Self.chat(second, "shared") == 200)

                    let renamed = try await second.send(
                        "/model/update", json: #"{"model_name":"moved","model_info":{"id":"sh-1"}}"#)
                    #expect(renamed.status == 200, "\(renamed.text)")
                    try await first.eventually("the first replica serves the renamed model") {
                        try await Self.listed(first) == ["gpt-4o-mini", "moved"]
                    }
                    #expect(try await Self.chat(first, "moved") == 200)
                    #expect(try await Self.chat(first, "shared") == 404)

                    #expect(try await first.send("/model/delete", json: #"{"id":"sh-1"}"#).status == 200)
                    try await second.eventually("the second replica drops the deleted model") {
                        try await Self.listed(second) == ["gpt-4o-mini"]
                    }
                    #expect(try await Self.chat(second, "moved") == 404)
                }
            }
        }
    }
}
