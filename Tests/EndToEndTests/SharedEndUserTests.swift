import Foundation
import GatewayTesting
import Logging
import Redis
import Store
import Telemetry
import Testing

@testable import Proxy

/// End users and budget tiers across replicas sharing a Redis and a database.
extension SharedStateTests {
    /// An end user's budget is one figure across replicas: once one replica's answer spends it,
    /// another that read the end user earlier (its clock is frozen, so its cached row never
    /// expires) refuses at once, from the shared spend. A tier raised on one replica is seen by
    /// the others through the published change.
    @Test func anEndUsersBudgetAndItsTierAreSharedByEveryReplica() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        // A dollar a token: one answer spends far more than the $5 budget.
        let models = """
              - {model_name: priced, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: k, input_cost_per_token: 1, output_cost_per_token: 1}}
            """
        let frozen = ManualClock(seconds: Date().timeIntervalSince1970)
        let user = "shared-\(UUID().uuidString)"
        try await replicas(2, config: Self.config(redis: url, models: models), clock: frozen) { gateways in
            let tier = "tier-\(UUID().uuidString)"
            #expect(try await gateways[0].send("/budget/new", json: #"{"budget_id":"\#(tier)","max_budget":5}"#).status == 200)
            #expect(
                try await gateways[0].send("/customer/new", json: #"{"user_id":"\#(user)","budget_id":"\#(tier)"}"#).status
                    == 200)
            let key = try await gateways[0].newKey(#"{"models":["priced"]}"#)
            // The second replica reads the end user (unspent) for a request refused for its model.
            let other = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"user":"\#(user)"}"#
            #expect(try await gateways[1].send("/v1/chat/completions", json: other, key: key).status == 403)
            let priced = #"{"model":"priced","messages":[{"role":"user","content":"x"}],"user":"\#(user)"}"#
            #expect(try await gateways[0].send("/v1/chat/completions", json: priced, key: key).status == 200)
            let spent = try await gateways[1].send("/v1/chat/completions", json: priced, key: key)
            #expect(spent.status == 422 && spent.json?["error"]?["type"] == "budget_exceeded", "\(spent.text)")
            #expect(spent.json?["error"]?["message"]?.stringValue?.contains("End User=\(user)") == true, "\(spent.text)")
            // Raised on the first replica, the tier binds on the second at once.
            #expect(
                try await gateways[0].send("/budget/update", json: #"{"budget_id":"\#(tier)","max_budget":1000000}"#).status
                    == 200)
            try await gateways[1].eventually("the raised tier reaches the second replica") {
                try await gateways[1].send("/v1/chat/completions", json: priced, key: key).status == 200
            }
        }
    }
}
