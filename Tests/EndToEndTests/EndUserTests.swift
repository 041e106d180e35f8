import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

@testable import Proxy

/// `/end_user/*` and `/customer/*`, and end users on the request path, against LiteLLM 1.108.7:
/// `NewCustomerRequest`, `UpdateCustomerRequest`, `DeleteCustomerRequest` and `BlockUsers`
/// (`proxy/_types.py`), `CustomerResponse` (`types/proxy/management_endpoints/customer_endpoints.py`:
/// the `LiteLLM_EndUserTable` row and `litellm_budget_table`), and the messages and statuses of
/// `proxy/management_endpoints/customer_endpoints.py`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EndUserTests {
    static func body(user: String? = nil, model: String = "local") -> String {
        let user = user.map { #","user":"\#($0)""# } ?? ""
        return #"{"model":"\#(model)","max_tokens":10,"messages":[{"role":"user","content":"Say hello"}]\#(user)}"#
    }

    /// `LiteLLM_EndUserTable`'s columns as answers show them (`object_permission` for its id),
    /// plus `litellm_budget_table`.
    static let customerFields: Set<String> = [
        "user_id", "alias", "spend", "allowed_model_region", "default_model", "budget_id", "models", "blocked",
        "object_permission", "litellm_budget_table",
    ]

    @Test func customerRoutesAnswerLiteLLMsShapes() async throws {
        try await Harness.with(config: e2eConfig) { h in
            for prefix in ["/end_user", "/customer"] {
                let id = prefix == "/end_user" ? "c1" : "c2"
                let made = try await h.send(
                    "\(prefix)/new",
                    json:
                        #"{"user_id":"\#(id)","alias":"Cust","allowed_model_region":"eu","default_model":"local","models":["local"]}"#
                )
                #expect(made.status == 200)
                let row = try #require(made.json?.objectValue)
                #expect(Set(row.keys) == Self.customerFields)
                #expect(row["user_id"] == .string(id) && row["alias"] == "Cust" && row["allowed_model_region"] == "eu")
                #expect(row["default_model"] == "local" && row["models"] == .array(["local"]) && row["blocked"] == false)
                #expect(row["spend"]?.doubleValue == 0 && row["budget_id"] == .null && row["litellm_budget_table"] == .null)
                let again = try await h.send("\(prefix)/new", json: #"{"user_id":"\#(id)"}"#)
                #expect(
                    again.status == 400
                        && again.json?["error"]?["message"]
                            == .string("Customer already exists, passed user_id=\(id). Please pass a new user_id.")
                )
                let info = try await h.send("\(prefix)/info?end_user_id=\(id)")
                #expect(info.status == 200 && info.json?["alias"] == "Cust")
            }
            #expect(try await h.send("/customer/new", json: #"{"alias":"x"}"#).json?["error"]?["param"] == "user_id")
            #expect(try await h.send("/customer/new", json: #"{"user_id":"r","allowed_model_region":"mars"}"#).status == 400)
            let notServed = try await h.send("/customer/new", json: #"{"user_id":"d","default_model":"nope"}"#)
            #expect(notServed.status == 422 && notServed.json?["error"]?["param"] == "default_model")
            let both = try await h.send("/customer/new", json: #"{"user_id":"b","max_budget":1,"budget_id":"x"}"#)
            #expect(both.status == 422 && both.json?["error"]?["message"] == "Set either 'max_budget' or 'budget_id', not both.")
            let unknownTier = try await h.send("/customer/new", json: #"{"user_id":"u","budget_id":"nope"}"#)
            #expect(unknownTier.status == 400 && unknownTier.json?["error"]?["param"] == "budget_id")
            #expect(try await h.send("/customer/new", json: #"{"user_id":"u","seats":1}"#).json?["error"]?["param"] == "seats")

            // Budget fields make a tier of the end user's own, as LiteLLM's `new_budget_request`.
            let budgeted = try await h.send(
                "/customer/new", json: #"{"user_id":"payer","max_budget":5,"budget_duration":"1d","tpm_limit":50}"#)
            let tierID = try #require(budgeted.json?["budget_id"]?.stringValue)
            #expect(tierID.count == 36)
            let table = budgeted.json?["litellm_budget_table"]
            #expect(table?["budget_id"] == .string(tierID) && table?["max_budget"]?.doubleValue == 5)
            #expect(table?["budget_duration"] == "1d" && table?["tpm_limit"]?.intValue == 50)
            #expect(Set(table?.objectValue?.keys ?? []) == BudgetTierTests.rowFields)
            #expect(try await h.send("/budget/info", json: #"{"budgets":["\#(tierID)"]}"#).json?.arrayValue?.count == 1)

            let missing = try await h.send("/customer/info?end_user_id=ghost")
            #expect(missing.status == 404 && missing.json?["error"]?["message"] == "End User Id=ghost does not exist in db")
            #expect(try await h.send("/customer/info").status == 400)

            // `/customer/update`: `max_budget` changes the end user's tier; nulls change nothing.
            let updated = try await h.send(
                "/customer/update", json: #"{"user_id":"payer","alias":"Payer","max_budget":7,"models":null}"#)
            #expect(updated.status == 200 && updated.json?["alias"] == "Payer")
            #expect(
                updated.json?["budget_id"] == .string(tierID)
                    && updated.json?["litellm_budget_table"]?["max_budget"]?.doubleValue == 7)
            let fresh = try await h.send("/customer/update", json: #"{"user_id":"c1","max_budget":3}"#)
            #expect(fresh.json?["litellm_budget_table"]?["max_budget"]?.doubleValue == 3)
            #expect(try await h.send("/customer/update", json: #"{"user_id":"ghost","alias":"x"}"#).status == 404)
            #expect(try await h.send("/customer/update", json: #"{"user_id":"payer","tpm_limit":1}"#).status == 400)

            let listed = try await h.send("/customer/list").json?.arrayValue ?? []
            #expect(Set(listed.compactMap { $0["user_id"]?.stringValue }) == ["c1", "c2", "payer"])
            #expect(try await h.send("/end_user/list").json?.arrayValue?.count == 3)

            let partly = try await h.send("/customer/delete", json: #"{"user_ids":["c1","ghost"]}"#)
            #expect(partly.status == 404 && partly.json?["error"]?["message"] == "End User Id(s)=ghost do not exist in db")
            let deleted = try await h.send("/end_user/delete", json: #"{"user_ids":["c1","c2"]}"#)
            #expect(deleted.status == 200)
            #expect(
                deleted.json
                    == .object([
                        "deleted_customers": .int(2), "message": "Successfully deleted customers with ids: ['c1', 'c2']",
                    ]))
            #expect(try await h.send("/customer/list").json?.arrayValue?.count == 1)

            // Master key only.
            let key = try await h.newKey()
            #expect(try await h.send("/customer/list", key: key).status == 403)
        }
    }

    /// A blocked end user is refused whatever key calls for it, named by `user` or by LiteLLM's
    /// header; `/customer/block` makes the row of an end user not seen yet.
    @Test func blockedEndUsersAreRefused() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await h.newKey()
            let blocked = try await h.send("/customer/block", json: #"{"user_ids":["bad","new"]}"#)
            #expect(blocked.status == 200)
            let rows = blocked.json?["blocked_users"]?.arrayValue ?? []
            #expect(rows.map { $0["user_id"] } == ["bad", "new"] && rows.allSatisfy { $0["blocked"] == true })
            for caller in [key, Harness.master] {
                let refused = try await h.send("/v1/chat/completions", json: Self.body(user: "bad"), key: caller)
                #expect(refused.status == 400)
                #expect(refused.json?["error"]?["message"] == "User blocked from making LLM API Calls. User=bad")
            }
            let byHeader = try await h.send(
                "/v1/chat/completions", json: Self.body(), key: key, headers: [("x-litellm-end-user-id", "bad")])
            #expect(byHeader.status == 400)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "good"), key: key).status == 200)

            let unblocked = try await h.send("/customer/unblock", json: #"{"user_ids":["bad"]}"#)
            #expect(unblocked.json?["blocked_users"] == .array(["new"]))
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "bad"), key: key).status == 200)
            #expect(try await h.send("/end_user/update", json: #"{"user_id":"bad","blocked":true}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "bad"), key: key).status == 400)
        }
    }

    /// An end user's tier budget binds it, whatever key calls; the refusal is LiteLLM's; its
    /// spend grows with each answer, and an end user not seen before gets a row carrying its spend.
    @Test func endUserBudgetsBindAndSpendIsCharged() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await h.newKey()
            let other = try await h.newKey()
            #expect(try await h.send("/customer/new", json: #"{"user_id":"spender","max_budget":0.0000001}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "spender"), key: key).status == 200)
            let spent = try await h.send("/v1/chat/completions", json: Self.body(user: "spender"), key: other)
            #expect(spent.status == 422 && spent.json?["error"]?["code"] == "budget_exceeded")
            let message = spent.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("ExceededBudget: End User=spender over budget."), "\(message)")
            // Another end user of the same key is not bound by it.
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "newcomer"), key: key).status == 200)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: Self.body(), key: key, headers: [("x-litellm-customer-id", "viaheader")]
                ).status == 200)

            let store = await h.store
            let charged = try #require(try await store.fetch(EndUser.self, id: "spender"))
            #expect(charged.limits.spend > 0)
            let made = try #require(try await store.fetch(EndUser.self, id: "newcomer"))
            #expect(made.limits.spend > 0 && made.budgetID == nil)
            let rows = try await store.spendLogs(SpendQuery(limit: 10))
            #expect(Set(rows.filter { $0.statusCode == 200 }.compactMap(\.endUser)) == ["spender", "newcomer", "viaheader"])
            #expect(try await h.send("/customer/info?end_user_id=newcomer").json?["spend"]?.doubleValue ?? 0 > 0)

            // Raising the tier's budget lets the end user in again at once.
            #expect(try await h.send("/customer/update", json: #"{"user_id":"spender","max_budget":100}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "spender"), key: key).status == 200)
        }
    }

    /// An end user's `models` narrow what a key may ask for on its behalf.
    @Test func anEndUsersModelsBindTheKeysCallingForIt() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await h.newKey()
            #expect(try await h.send("/customer/new", json: #"{"user_id":"narrow","models":["local"]}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "narrow"), key: key).status == 200)
            let denied = try await h.send(
                "/v1/chat/completions", json: Self.body(user: "narrow", model: "gpt-4o-mini"), key: key)
            #expect(
                denied.status == 403 && denied.json?["error"]?["message"] == "This end_user may not use the model 'gpt-4o-mini'.")
        }
    }

    /// An end user's tier limits its requests per minute, whatever key calls; its slot comes back
    /// when the request settles (`max_parallel_requests` 1 admits one request after another).
    @Test func anEndUsersTierLimitsItsRequests() async throws {
        try await Harness.with(config: e2eConfig, clock: TestTime.clock(secondsIntoMinute: 15)) { h in
            let key = try await h.newKey()
            #expect(try await h.send("/customer/new", json: #"{"user_id":"paced","rpm_limit":2}"#).status == 200)
            #expect(try await h.send("/customer/new", json: #"{"user_id":"single","max_parallel_requests":1}"#).status == 200)
            for _ in 0..<3 {
                #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "single"), key: key).status == 200)
            }
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "paced"), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "paced"), key: key).status == 200)
            let limited = try await h.send("/v1/chat/completions", json: Self.body(user: "paced"), key: key)
            #expect(
                limited.status == 429
                    && limited.json?["error"]?["message"] == "This end_user is limited to 2 requests per minute.")
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "other"), key: key).status == 200)
        }
    }

    /// `litellm_settings.max_end_user_budget_id`: the tier of end users that link to none, those
    /// without a row included.
    @Test func theDefaultTierBindsEndUsersWithoutOne() async throws {
        let config = e2eConfig + "\n  max_end_user_budget_id: default-tier\n"
        try await Harness.with(config: config) { h in
            #expect(try await h.send("/budget/new", json: #"{"budget_id":"default-tier","max_budget":0.0000001}"#).status == 200)
            let key = try await h.newKey()
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "anon"), key: key).status == 200)
            let spent = try await h.send("/v1/chat/completions", json: Self.body(user: "anon"), key: key)
            #expect(spent.status == 422 && spent.json?["error"]?["message"]?.stringValue?.contains("End User=anon") == true)
            // An end user with a tier of its own is bound by that one instead (its row is there
            // once the ledger has written the first answer's cost).
            _ = await h.store
            #expect(try await h.send("/budget/new", json: #"{"budget_id":"big","max_budget":100}"#).status == 200)
            #expect(try await h.send("/customer/update", json: #"{"user_id":"anon","budget_id":"big"}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "anon"), key: key).status == 200)
            // A key's `end_user_budget_id` comes before the configured tier for the end users it calls for.
            let generous = try await h.newKey(#"{"end_user_budget_id":"big"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "anon2"), key: generous).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "anon2"), key: generous).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "anon3"), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body(user: "anon3"), key: key).status == 422)
        }
    }
}
