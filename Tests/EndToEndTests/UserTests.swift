import Foundation
import Store
import Telemetry
import Testing

@testable import Proxy
@testable import Sinks

@Suite(.serialized, .timeLimit(.minutes(3))) struct UserTests {
    static let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#

    @Test func aUsersLimitsBindTheirKeys() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let created = try await h.send(
                "/user/new",
                json:
                    #"{"user_id":"ada","user_email":"ada@example.com","models":["local"],"max_budget":0.0000001,"rpm_limit":10}"#)
            #expect(created.status == 200 && created.json?["user_role"] == "internal_user")
            let key = try #require(try await h.send("/key/generate", json: #"{"user_id":"ada"}"#).json?["key"]?.stringValue)
            let denied = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, key: key)
            #expect(denied.status == 403 && denied.json?["error"]?["message"] == "This user may not use the model 'gpt-4o-mini'.")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let over = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            // LiteLLM's words for a user: `ExceededBudget: User=<id> over budget. Spend=…, Budget=…`.
            let message = try #require(over.json?["error"]?["message"]?.stringValue)
            #expect(over.status == 422 && message.hasPrefix("ExceededBudget: User=ada over budget. Spend="))
            #expect(message.hasSuffix(", Budget=1e-07"))
            let info = try await h.send("/user/info?user_id=ada").json
            // Two keys: the one `/user/new` made (LiteLLM's `auto_create_key` defaults to true) and the generated one.
            #expect(info?["user_info"]?["spend"]?.doubleValue ?? 0 > 0 && info?["keys"]?.arrayValue?.count == 2)
            // A key may name a user the gateway does not manage: attribution only.
            let external = try #require(
                try await h.send("/key/generate", json: #"{"user_id":"someone-else"}"#).json?["key"]?.stringValue)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: external).status == 200)
            #expect(try await h.store.spendLogs(SpendQuery(userID: "someone-else")).count == 1)
        }
    }

    @Test func listUpdateDeleteAndBadInput() async throws {
        try await Harness.with(config: e2eConfig) { h in
            for i in 0..<3 { #expect(try await h.send("/user/new", json: #"{"user_id":"u\#(i)"}"#).status == 200) }
            #expect(try await h.send("/user/new", json: #"{"user_id":"u0"}"#).status == 409)
            let page = try await h.send("/user/list?page=2&page_size=2").json
            #expect(
                page?["total"]?.intValue == 3 && page?["users"]?.arrayValue?.count == 1 && page?["total_pages"]?.intValue == 2)
            let updated = try await h.send(
                "/user/update", json: #"{"user_id":"u1","user_role":"proxy_admin_viewer","tpm_limit":5}"#)
            #expect(
                updated.json?["data"]?["user_role"] == "proxy_admin_viewer" && updated.json?["data"]?["tpm_limit"]?.intValue == 5)
            let key = try #require(try await h.send("/key/generate", json: #"{"user_id":"u2"}"#).json?["key"]?.stringValue)
            #expect(try await h.send("/user/delete", json: #"{"user_ids":["u2"]}"#).json?["deleted_users"] == .array(["u2"]))
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 401)
            #expect(try await h.send("/user/delete", json: #"{"user_ids":["u2"]}"#).status == 404)
            #expect(try await h.send("/user/info?user_id=u2").status == 404)
            #expect(try await h.send("/user/new", json: #"{"user_role":"god"}"#).json?["error"]?["param"] == "user_role")
            #expect(try await h.send("/user/new", json: #"{"max_budget":-1}"#).json?["error"]?["param"] == "max_budget")
            #expect(try await h.send("/user/new", json: #"{"nickname":"x"}"#).json?["error"]?["param"] == "nickname")
            #expect(try await h.send("/user/update", json: #"{"user_id":"nobody"}"#).status == 404)
            #expect(try await h.send("/user/list?sort=1").status == 400)
        }
    }
}
