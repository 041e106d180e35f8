import Foundation
import Store
import Telemetry
import Testing

@testable import Proxy

@Suite(.serialized) struct BudgetTests {
    static let body = #"{"model":"local","max_tokens":10,"messages":[{"role":"user","content":"Say hello"}]}"#

    @Test func budgetResetsOnSchedule() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try #require(try await h.send("/key/generate", json: #"{"key_alias":"resetting","max_budget":0.0000001,"budget_duration":"1s"}"#).json?["key"]?.stringValue)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 400)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let info = try await h.send("/key/info?key=\(key)").json?["info"]
            #expect(info?["spend"]?.doubleValue ?? 0 > 0 && info?["budget_reset_at"]?.stringValue != nil)
            let metrics = try await h.metrics()
            let token = KeyDigest(key: key).hex
            // Named by alias: a key's digest is never a label.
            #expect(metrics.contains(#"spanway_budget_remaining_usd{scope="key",name="resetting"} -"#), "\(metrics)")
            #expect(!metrics.contains(key) && !metrics.contains(token))
        }
    }

    /// 200 requests at once against a small budget: recorded spend exceeds the budget by less than
    /// one request's estimate, and every answered request has its row.
    @Test func concurrentRequestsCannotOverspend() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let budget = 0.0001
            let key = try #require(try await h.send("/key/generate", json: #"{"max_budget":\#(budget)}"#).json?["key"]?.stringValue)
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        let reply = try await h.send("/v1/chat/completions", json: Self.body, key: key)
                        return (reply.status, reply.headers.first(name: "x-spanway-request-id"))
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            let answered = statuses.filter { $0.0 == 200 }.compactMap(\.1)
            #expect(!answered.isEmpty)
            #expect(statuses.allSatisfy { $0.0 == 200 || $0.0 == 400 })
            let rows = try await h.store.spendLogs(SpendQuery(keyHash: KeyDigest(key: key).hex, limit: 1000))
            let spent = rows.reduce(0) { $0 + $1.spend }
            // gpt-4o-mini prices; the estimate is the body as input tokens plus max_tokens as output.
            let estimate = Double(Self.body.utf8.count) / 4 * 1.5e-7 + 10 * 6e-7
            #expect(spent <= budget + estimate, "spent \(spent) of \(budget)")
            #expect(Set(answered).isSubset(of: Set(rows.map(\.requestID))))
            #expect(rows.filter { $0.statusCode == 200 }.count == answered.count)
        }
    }
}

@Suite(.serialized) struct SoftBudgetTests {
    @Test func crossingTheSoftBudgetRaisesOneAlertAndRefusesNothing() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try #require(try await h.send("/key/generate", json: #"{"key_alias":"watched","soft_budget":0.00001}"#).json?["key"]?.stringValue)
            let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#
            // About 6.6e-6 USD a request: the second crosses 1e-5.
            #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200)
            #expect(h.gateway.budgetAlerts.raisedCount == 0)
            for _ in 0..<3 { #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200) }
            #expect(h.gateway.budgetAlerts.raisedCount == 1)
            let alert = try #require(h.gateway.budgetAlerts.queue.drain(upTo: 10).first)
            #expect(alert.keyAlias == "watched" && alert.softBudget == 0.00001 && alert.spend >= 0.00001)
            #expect(try await h.send("/key/info?key=\(key)").json?["info"]?["soft_budget"]?.doubleValue == 0.00001)
            #expect(try await h.metrics().contains(#"spanway_sink_queue_depth{sink="budget_alerts"} 0"#))
            #expect(try await h.send("/key/generate", json: #"{"soft_budget":-1}"#).json?["error"]?["param"] == "soft_budget")
        }
    }
}
