import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

@testable import Proxy

/// `/budget/*` and `budget_id` links, against LiteLLM 1.108.7's shapes: the request fields of
/// `BudgetNewRequest` (`proxy/_types.py`), the row of `LiteLLM_BudgetTable` (`proxy/schema.prisma`)
/// and the handlers of `proxy/management_endpoints/budget_management_endpoints.py`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct BudgetTierTests {
    static let body = #"{"model":"local","max_tokens":10,"messages":[{"role":"user","content":"Say hello"}]}"#

    /// `LiteLLM_BudgetTable`'s columns (its relation fields aside), as `/budget/*` answers them.
    static let rowFields: Set<String> = [
        "budget_id", "max_budget", "soft_budget", "max_parallel_requests", "tpm_limit", "rpm_limit", "tpd_limit",
        "model_max_budget", "budget_duration", "budget_reset_at", "allowed_models", "temp_budget_increase",
        "temp_budget_expiry", "created_at", "created_by", "updated_at", "updated_by",
    ]

    @Test func budgetRoutesAnswerLiteLLMsShapes() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let made = try await h.send(
                "/budget/new",
                json: #"""
                    {"budget_id":"gold","max_budget":10,"soft_budget":8,"tpm_limit":100,"rpm_limit":5,
                     "max_parallel_requests":2,"tpd_limit":1000,"budget_duration":"30d",
                     "model_max_budget":{"gpt-4o":{"budget_limit":1,"time_period":"1d"}}}
                    """#)
            #expect(made.status == 200)
            let row = try #require(made.json?.objectValue)
            #expect(Set(row.keys) == Self.rowFields)
            #expect(row["budget_id"] == "gold" && row["max_budget"]?.doubleValue == 10 && row["soft_budget"]?.doubleValue == 8)
            #expect(row["tpm_limit"]?.intValue == 100 && row["rpm_limit"]?.intValue == 5)
            #expect(row["max_parallel_requests"]?.intValue == 2 && row["tpd_limit"]?.intValue == 1000)
            #expect(row["budget_duration"] == "30d" && row["model_max_budget"]?["gpt-4o"]?["time_period"] == "1d")
            // A period starts when it is set (LiteLLM dates the first reset on creation).
            #expect(row["budget_reset_at"]?.stringValue != nil && row["created_by"] == "default_user_id")
            #expect(row["allowed_models"] == .array([]))

            // No id: a uuid.
            let unnamed = try await h.send("/budget/new", json: #"{"max_budget":1}"#).json?["budget_id"]?.stringValue
            #expect(unnamed?.count == 36)
            let duplicate = try await h.send("/budget/new", json: #"{"budget_id":"gold"}"#)
            #expect(duplicate.status == 400 && duplicate.json?["error"]?["message"] == "Budget with id 'gold' already exists.")
            #expect(try await h.send("/budget/new", json: #"{"max_budget":-1}"#).json?["error"]?["param"] == "max_budget")
            #expect(try await h.send("/budget/new", json: #"{"budget_duration":"soon"}"#).status == 400)
            #expect(try await h.send("/budget/new", json: #"{"spend":3}"#).json?["error"]?["param"] == "spend")

            // `/budget/info` is a POST of ids; the ones that exist come back.
            let info = try await h.send("/budget/info", json: #"{"budgets":["gold","missing"]}"#)
            #expect(info.status == 200 && info.json?.arrayValue?.map { $0["budget_id"] } == ["gold"])
            let none = try await h.send("/budget/info", json: #"{"budgets":[]}"#)
            #expect(none.status == 400 && none.json?["error"]?["message"] == "Specify list of budget id's to query. Passed in=[]")

            let updated = try await h.send(
                "/budget/update", json: #"{"budget_id":"gold","max_budget":20,"budget_duration":null}"#)
            #expect(updated.status == 200 && updated.json?["max_budget"]?.doubleValue == 20)
            // What the update did not name stays; clearing the period clears its reset time.
            #expect(updated.json?["tpm_limit"]?.intValue == 100 && updated.json?["budget_reset_at"] == .null)
            let pinned = try await h.send(
                "/budget/update", json: #"{"budget_id":"gold","budget_reset_at":"2030-01-01T00:00:00Z","budget_duration":"1d"}"#)
            #expect(pinned.json?["budget_reset_at"] == "2030-01-01T00:00:00Z" && pinned.json?["budget_duration"] == "1d")
            let anonymous = try await h.send("/budget/update", json: #"{"max_budget":1}"#)
            #expect(anonymous.status == 400 && anonymous.json?["error"]?["message"] == "budget_id is required")
            #expect(try await h.send("/budget/update", json: #"{"budget_id":"ghost","max_budget":1}"#).status == 404)

            let listed = try await h.send("/budget/list").json?.arrayValue
            #expect(listed?.count == 2 && listed?.allSatisfy { Set($0.objectValue?.keys ?? []) == Self.rowFields } == true)

            let deleted = try await h.send("/budget/delete", json: #"{"id":"gold"}"#)
            #expect(deleted.status == 200 && deleted.json?["budget_id"] == "gold")
            #expect(try await h.send("/budget/delete", json: #"{"id":"gold"}"#).status == 404)
            #expect(try await h.send("/budget/list").json?.arrayValue?.count == 1)

            // Master key only.
            let key = try await h.newKey()
            #expect(try await h.send("/budget/list", method: .GET, key: key).status == 403)
            #expect(try await h.send("/budget/new", json: #"{"budget_id":"x"}"#, key: key).status == 403)
        }
    }

    /// A key linked to a tier is bound by the tier's budget where it sets none, and a change to
    /// the tier reaches it at once; a `budget_id` must name a tier.
    @Test func aTiersBudgetBindsLinkedKeysAndAnUpdateReachesThemAtOnce() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/budget/new", json: #"{"budget_id":"tiny","max_budget":0.0000001}"#).status == 200)
            let unknown = try await h.send("/key/generate", json: #"{"budget_id":"nope"}"#)
            #expect(unknown.status == 400 && unknown.json?["error"]?["param"] == "budget_id")
            let key = try await h.newKey(#"{"key_alias":"tiered","budget_id":"tiny"}"#)
            #expect(try await h.send("/key/info?key=\(key)").json?["info"]?["budget_id"] == "tiny")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let spent = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(spent.status == 422 && spent.json?["error"]?["code"] == "budget_exceeded")
            #expect(spent.json?["error"]?["message"]?.stringValue?.contains("Budget has been exceeded!") == true)
            // A key of its own budget is not bound by the tier's.
            let own = try await h.newKey(#"{"budget_id":"tiny","max_budget":100}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: own).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: own).status == 200)

            #expect(try await h.send("/budget/update", json: #"{"budget_id":"tiny","max_budget":100}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            // Unlinked, the key has no budget at all.
            #expect(try await h.send("/budget/update", json: #"{"budget_id":"tiny","max_budget":0.0000001}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 422)
            #expect(try await h.send("/key/update", json: #"{"key":"\#(key)","budget_id":null}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
        }
    }

    /// An organisation's limits from its tier, as LiteLLM keeps them: the tier's rpm binds the
    /// keys of its teams; answers carry the tier as `litellm_budget_table`; deleting the tier
    /// unlinks it.
    @Test func anOrganizationsTierBindsItsTeamsKeys() async throws {
        try await Harness.with(config: e2eConfig, clock: TestTime.clock(secondsIntoMinute: 15)) { h in
            #expect(try await h.send("/budget/new", json: #"{"budget_id":"rl","rpm_limit":2}"#).status == 200)
            let missing = try await h.send(
                "/organization/new", json: #"{"organization_alias":"A","budget_id":"nope"}"#)
            #expect(missing.status == 400 && missing.json?["error"]?["param"] == "budget_id")
            let org = try await h.send(
                "/organization/new", json: #"{"organization_id":"o1","organization_alias":"A","budget_id":"rl"}"#)
            #expect(org.status == 200 && org.json?["budget_id"] == "rl")
            #expect(org.json?["litellm_budget_table"]?["rpm_limit"]?.intValue == 2)
            let plain = try await h.send("/organization/new", json: #"{"organization_id":"o2","organization_alias":"B"}"#)
            #expect(plain.json?["litellm_budget_table"] == .null)
            #expect(try await h.send("/team/new", json: #"{"team_id":"t1","organization_id":"o1"}"#).status == 200)
            let key = try await h.newKey(#"{"team_id":"t1"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let limited = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(
                limited.status == 429
                    && limited.json?["error"]?["message"] == "This organization is limited to 2 requests per minute.")
            let info = try await h.send("/organization/info?organization_id=o1").json
            #expect(info?["litellm_budget_table"]?["budget_id"] == "rl")
            let listed = try await h.send("/organization/list").json?.arrayValue ?? []
            #expect(listed.map { $0["litellm_budget_table"]?["budget_id"] ?? .null } == ["rl", .null])

            #expect(try await h.send("/budget/delete", json: #"{"id":"rl"}"#).status == 200)
            let unlinked = try await h.send("/organization/info?organization_id=o1").json
            #expect(unlinked?["budget_id"] == .null && unlinked?["litellm_budget_table"] == .null)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
        }
    }

    /// A key without its own period resets on its tier's: once the tier's reset time passes, the
    /// key's spend starts again.
    @Test func aLinkedKeyResetsOnItsTiersPeriod() async throws {
        let clock = ManualClock(seconds: Date().timeIntervalSince1970)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            #expect(
                try await h.send("/budget/new", json: #"{"budget_id":"daily","max_budget":0.0000001,"budget_duration":"1d"}"#)
                    .status == 200)
            let key = try await h.newKey(#"{"budget_id":"daily"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 422)
            clock.advance(by: .seconds(86_400 + 60))
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let stored = try await h.store.fetch(VirtualKey.self, id: KeyDigest(key: key).hex)
            // The new period's one request, and the next reset a day after the first.
            #expect(stored?.limits.spend ?? 0 > 0 && stored?.limits.budgetResetAt ?? 0 > clock.nowSeconds())
        }
    }

    /// One answer's cost from the usage it reports, at gpt-4o-mini's prices (the mock model's):
    /// 1.5e-7 USD an input token, 6e-7 an output token.
    static func cost(_ reply: Harness.Reply) -> Double {
        let usage = reply.json?["usage"]
        return Double(usage?["prompt_tokens"]?.intValue ?? 0) * 1.5e-7
            + Double(usage?["completion_tokens"]?.intValue ?? 0) * 6e-7
    }

    /// An end user on a tier with a period, first seen after the tier's reset time passed: its
    /// first request's spend is kept by the second (its row, made by the first, had no reset
    /// time); its spend starts again only when its own period ends.
    @Test func anEndUsersSpendOnATierIsKeptUntilItsOwnPeriodEnds() async throws {
        let clock = ManualClock(seconds: Date().timeIntervalSince1970)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            #expect(
                try await h.send("/budget/new", json: #"{"budget_id":"monthly","max_budget":100,"budget_duration":"30d"}"#)
                    .status == 200)
            // The tier's reset time passes; nothing moves it on.
            clock.advance(by: .seconds(31 * 86_400))
            let key = try await h.newKey(#"{"end_user_budget_id":"monthly"}"#)
            let first = try await h.send("/v1/chat/completions", json: EndUserTests.body(user: "eu"), key: key)
            #expect(first.status == 200 && Self.cost(first) > 0)
            _ = await h.store  // the ledger writes the end user's row
            let second = try await h.send("/v1/chat/completions", json: EndUserTests.body(user: "eu"), key: key)
            #expect(second.status == 200)
            let charged = try #require(try await h.store.fetch(EndUser.self, id: "eu"))
            #expect(abs(charged.limits.spend - (Self.cost(first) + Self.cost(second))) < 1e-12)
            // Its period started with the second request: 30 days on.
            #expect(abs((charged.limits.budgetResetAt ?? 0) - (clock.nowSeconds() + 30 * 86_400)) < 1e-3)

            clock.advance(by: .seconds(30 * 86_400 + 60))
            let third = try await h.send("/v1/chat/completions", json: EndUserTests.body(user: "eu"), key: key)
            #expect(third.status == 200)
            let reset = try #require(try await h.store.fetch(EndUser.self, id: "eu"))
            #expect(abs(reset.limits.spend - Self.cost(third)) < 1e-12)
            #expect(reset.limits.budgetResetAt ?? 0 > clock.nowSeconds())
        }
    }

    /// A key moved onto a tier whose reset time has passed keeps the spend it has.
    @Test func aKeyMovedOntoATierKeepsItsSpend() async throws {
        let clock = ManualClock(seconds: Date().timeIntervalSince1970)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            #expect(
                try await h.send("/budget/new", json: #"{"budget_id":"old","max_budget":100,"budget_duration":"1d"}"#)
                    .status == 200)
            clock.advance(by: .seconds(2 * 86_400))
            let key = try await h.newKey()
            let first = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(first.status == 200 && Self.cost(first) > 0)
            _ = await h.store
            #expect(try await h.send("/key/update", json: #"{"key":"\#(key)","budget_id":"old"}"#).status == 200)
            let second = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(second.status == 200)
            let stored = try #require(try await h.store.fetch(VirtualKey.self, id: KeyDigest(key: key).hex))
            #expect(abs(stored.limits.spend - (Self.cost(first) + Self.cost(second))) < 1e-12)
            let info = try await h.send("/key/info?key=\(key)").json?["info"]
            #expect(abs((info?["spend"]?.doubleValue ?? 0) - (Self.cost(first) + Self.cost(second))) < 1e-12)
        }
    }
}
