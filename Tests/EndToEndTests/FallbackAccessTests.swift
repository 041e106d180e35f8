import Foundation
import GatewayTesting
import Store
import Testing

@testable import Proxy

/// Issue 11, "access checks on every attempt": falling back never reaches a group the caller
/// may not use, the budget estimate covers every candidate, and the ledger names the group that
/// answered.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FallbackAccessTests {
    static let config = """
        model_list:
          - model_name: flaky
            litellm_params: {model: mock/error-500}
          - model_name: backup
            litellm_params: {model: mock/gpt-4o-mini}
          - model_name: gpt-4o-mini
            litellm_params: {model: mock/gpt-4o-mini}
        router_settings:
          fallbacks: [{flaky: [gpt-4o-mini, backup]}]
        general_settings: {master_key: \(Harness.master)}
        """

    func ask(_ h: Harness, key: String, extra: String = "") async throws -> Harness.Reply {
        try await h.send(
            "/v1/chat/completions", json: #"{"model":"flaky","messages":[{"role":"user","content":"hi"}]\#(extra)}"#, key: key)
    }

    @Test func requestFallbacksOutsideTheKeysModelsAreRefused() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let key = try await h.newKey(#"{"models":["flaky"]}"#)
            let reply = try await ask(h, key: key, extra: #","fallbacks":["gpt-4o-mini"]"#)
            #expect(reply.status == 403)
            #expect(reply.json?["error"]?["param"] == "fallbacks")
            #expect(reply.json?["error"]?["code"] == "model_not_allowed")
        }
    }

    @Test func configuredFallbacksSkipGroupsTheKeyMayNotUse() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let onlyFlaky = try await h.newKey(#"{"models":["flaky"]}"#)
            let refused = try await ask(h, key: onlyFlaky)
            #expect(refused.status >= 500)
            #expect(refused.headers.first(name: "x-spanway-model-group") == "flaky")

            // gpt-4o-mini comes first in the fallbacks but is not the key's: backup answers.
            let withBackup = try await h.newKey(#"{"models":["flaky","backup"]}"#)
            let answered = try await ask(h, key: withBackup)
            #expect(answered.status == 200)
            #expect(answered.headers.first(name: "x-spanway-model-group") == "backup")
            try await h.eventually("the ledger row") {
                try await h.store.spendLogs(SpendQuery()).contains { $0.statusCode == 200 }
            }
            let row = try #require(try await h.store.spendLogs(SpendQuery()).first { $0.statusCode == 200 })
            #expect(row.modelGroup == "backup")
        }
    }

    @Test func requestFallbacksGoThroughTheKeysAliases() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let key = try await h.newKey(#"{"models":["flaky","backup"],"aliases":{"cheap":"backup"}}"#)
            let reply = try await ask(h, key: key, extra: #","fallbacks":["cheap"]"#)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-spanway-model-group") == "backup")
        }
    }

    @Test func theBudgetReservationCoversTheDearestFallback() async throws {
        let upstream = GatedUpstream()
        try await withTestServer(upstream.router()) { port in
            let config = """
                model_list:
                  - model_name: gated
                    litellm_params: {model: openai/gate-head, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0, output_cost_per_token: 0}
                  - model_name: pricey
                    litellm_params: {model: mock/gpt-4o-mini, input_cost_per_token: 1, output_cost_per_token: 1}
                  - model_name: local
                    litellm_params: {model: mock/gpt-4o-mini}
                router_settings:
                  fallbacks: [{gated: [pricey]}]
                general_settings: {master_key: \(Harness.master)}
                """
            try await Harness.with(config: config, otlp: false) { h in
                // A budget far below what one request could cost if it fell back to `pricey`.
                let key = try await h.newKey(#"{"max_budget":1}"#)
                let inFlight = Task {
                    try await h.send(
                        "/v1/chat/completions",
                        json: #"{"model":"gated","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
                        key: key)
                }
                var arrivals = upstream.arrivals.makeAsyncIterator()
                #expect(await arrivals.next() == "gate-head")
                // While it is in flight its reservation (at `pricey`'s price: 10 output tokens
                // alone cost 10 USD) holds the whole budget.
                let second = try await h.send(
                    "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#, key: key)
                #expect(second.status == 422 && second.json?["error"]?["code"] == "budget_exceeded")
                upstream.release()
                #expect(try await inFlight.value.status == 200)
                // Settled at its real cost (0): the reservation is gone and the key works again.
                let third = try await h.send(
                    "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#, key: key)
                #expect(third.status == 200)
            }
        }
    }
}
