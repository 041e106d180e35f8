import PostgresStore
import Store
import Testing

@testable import Proxy

extension PostgresEndToEndTests {
    /// End users and tiers on PostgreSQL: the admin API writes them there, an answer's cost is
    /// charged to its end user (making the row of one not seen before), and the tier's budget binds.
    @Test func endUsersAndTiersOnPostgreSQL() async throws {
        let body = { (user: String) in
            #"{"model":"local","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"user":"\#(user)"}"#
        }
        try await Self.withGatewayOnPostgreSQL { h, replica in
            #expect(try await h.send("/budget/new", json: #"{"budget_id":"tiny","max_budget":0.0000001}"#).status == 200)
            #expect(try await h.send("/customer/new", json: #"{"user_id":"pg-user","budget_id":"tiny"}"#).status == 200)
            let key = try await h.newKey()
            #expect(try await h.send("/v1/chat/completions", json: body("pg-user"), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: body("pg-user"), key: key).status == 422)
            #expect(try await h.send("/v1/chat/completions", json: body("pg-new"), key: key).status == 200)
            // Without the journal each answer waited for its row: the other store reads the charges.
            #expect(try await replica.fetch(EndUser.self, id: "pg-user")?.limits.spend ?? 0 > 0)
            let made = try await replica.fetch(EndUser.self, id: "pg-new")
            #expect(made?.limits.spend ?? 0 > 0 && made?.budgetID == nil)
            #expect(try await replica.fetch(Budget.self, id: "tiny")?.limits.spend == 0)
            #expect(try await h.send("/budget/delete", json: #"{"id":"tiny"}"#).status == 200)
            #expect(try await replica.fetch(EndUser.self, id: "pg-user")?.budgetID == nil)
            #expect(try await h.send("/v1/chat/completions", json: body("pg-user"), key: key).status == 200)
        }
    }
}
