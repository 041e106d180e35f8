import Foundation
import Store
import Testing

/// The LiteLLM fields keys, users, teams and organisations gained (organisation, tags, allowed
/// routes, temporary budget, model aliases, the JSON of fields kept without effect) round-trip
/// through both stores, and filter keys by organisation.
@Suite struct LiteLLMFieldsStoreTests {
    @Test(arguments: StoreBackend.all)
    func newFieldsRoundTrip(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.insert(Organization(organizationID: "o", organizationAlias: "O", createdAt: 1))
            var organization = try #require(try await store.fetch(Organization.self, id: "o"))
            organization.litellmFields = #"{"soft_budget":2}"#
            try await store.update(organization)
            #expect(try await store.fetch(Organization.self, id: "o")?.litellmFields == #"{"soft_budget":2}"#)

            var team = Team(teamID: "t", createdAt: 2)
            team.modelAliases = ["fast": "gpt-4o-mini"]
            team.litellmFields = #"{"tags":["x"],"team_member_budget":5}"#
            try await store.insert(team)
            #expect(try await store.fetch(Team.self, id: "t") == team)

            var user = User(userID: "u", createdAt: 3)
            user.litellmFields = #"{"sso_user_id":"s"}"#
            try await store.insert(user)
            #expect(try await store.fetch(User.self, id: "u") == user)

            var key = VirtualKey(token: "tok", keyName: "sk-...abcd", teamID: "t", createdAt: 4)
            key.organizationID = "o"
            key.tags = ["billing", "batch"]
            key.allowedRoutes = ["/v1/chat/completions", "llm_api_routes"]
            key.tempBudgetIncrease = 5
            key.tempBudgetExpiry = 4_102_444_800
            key.updatedAt = 5
            key.litellmFields = #"{"key_type":"llm_api","guardrails":["pii"]}"#
            try await store.insert(key)
            #expect(try await store.fetch(VirtualKey.self, id: "tok") == key)
            // A record written without them reads back their defaults.
            try await store.insert(VirtualKey(token: "plain", keyName: "sk-...0000", createdAt: 6))
            let plain = try #require(try await store.fetch(VirtualKey.self, id: "plain"))
            #expect(plain.tags == [] && plain.allowedRoutes == [] && plain.organizationID == nil)
            #expect(plain.litellmFields == "{}" && plain.tempBudgetIncrease == nil)
        }
    }

    @Test func aTemporaryIncreaseRaisesTheBudgetUntilItExpires() {
        var key = VirtualKey(token: "tok", keyName: "sk-...abcd", createdAt: 0)
        key.limits.maxBudget = 10
        key.tempBudgetIncrease = 5
        key.tempBudgetExpiry = 100
        #expect(key.maxBudget(now: 99) == 15)
        #expect(key.maxBudget(now: 100) == 10)
        key.limits.maxBudget = nil
        #expect(key.maxBudget(now: 0) == nil)
    }
}
