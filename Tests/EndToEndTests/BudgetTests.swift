import Foundation
import Store
import Telemetry
import TelemetryTesting
import Testing

@testable import Proxy

@Suite(.serialized, .timeLimit(.minutes(3))) struct BudgetTests {
    static let body = #"{"model":"local","max_tokens":10,"messages":[{"role":"user","content":"Say hello"}]}"#

    /// The gateway's clock starts at the real time (the admin API dates the first reset from it)
    /// and is moved past the one-second period by hand, however long the requests took.
    @Test func budgetResetsOnSchedule() async throws {
        let clock = ManualClock(seconds: Date().timeIntervalSince1970)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            let key = try await h.newKey(#"{"key_alias":"resetting","max_budget":0.0000001,"budget_duration":"1s"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let spent = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(spent.status == 422 && spent.json?["error"]?["code"] == "budget_exceeded")
            // Well past the period, whenever within this test the key was created.
            clock.advance(by: .seconds(30))
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let info = try await h.send("/key/info?key=\(key)").json?["info"]
            #expect(info?["spend"]?.doubleValue ?? 0 > 0 && info?["budget_reset_at"]?.stringValue != nil)
            let metrics = try await h.metrics()
            let remaining = try #require(
                try MetricsExposition(metrics).value(
                    of: "spanway_budget_remaining_usd", labels: ["scope": "key", "name": "resetting"]))
            // Spent past its budget again in the new period.
            #expect(remaining < 0, "\(metrics)")
            let token = KeyDigest(key: key).hex
            // Named by alias: a key's digest is never a label.
            #expect(!metrics.contains(key) && !metrics.contains(token))
        }
    }

    /// 200 requests at once against a small budget: recorded spend exceeds the budget by less than
    /// one request's estimate, and every answered request has its row.
    @Test func concurrentRequestsCannotOverspend() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let budget = 0.0001
            let key = try await h.newKey(#"{"max_budget":\#(budget)}"#)
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
            #expect(statuses.allSatisfy { $0.0 == 200 || $0.0 == 422 })
            let rows = try await h.store.spendLogs(SpendQuery(keyHash: KeyDigest(key: key).hex, limit: 1000))
            let spent = rows.reduce(0) { $0 + $1.spend }
            // One request's estimate at gpt-4o-mini's prices (1.5e-7 USD an input token, 6e-7 an
            // output token): the 84-byte body as 21 input tokens, max_tokens 10 as output:
            // 21 × 1.5e-7 + 10 × 6e-7 = 3.15e-6 + 6e-6.
            #expect(Self.body.utf8.count == 84)
            let estimate = 9.15e-6
            #expect(spent <= budget + estimate, "spent \(spent) of \(budget)")
            #expect(Set(answered).isSubset(of: Set(rows.map(\.requestID))))
            #expect(rows.filter { $0.statusCode == 200 }.count == answered.count)
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct SoftBudgetTests {
    @Test func crossingTheSoftBudgetRaisesOneAlertAndRefusesNothing() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await h.newKey(#"{"key_alias":"watched","soft_budget":0.00001}"#)
            let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#
            // About 6.6e-6 USD a request: the second crosses 1e-5.
            #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200)
            #expect(h.gateway.budgetAlerts.raisedCount == 0)
            for _ in 0..<3 { #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200) }
            #expect(h.gateway.budgetAlerts.raisedCount == 1)
            let alert = try #require(h.gateway.budgetAlerts.queue.drain(upTo: 10).first)
            #expect(alert.keyAlias == "watched" && alert.softBudget == 0.00001 && alert.spend >= 0.00001)
            #expect(try await h.send("/key/info?key=\(key)").json?["info"]?["soft_budget"]?.doubleValue == 0.00001)
            #expect(try await h.exposition().value(of: "spanway_sink_queue_depth", labels: ["sink": "budget_alerts"]) == 0)
            #expect(try await h.send("/key/generate", json: #"{"soft_budget":-1}"#).json?["error"]?["param"] == "soft_budget")
        }
    }
}
