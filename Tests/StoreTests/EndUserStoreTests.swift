import Foundation
import Store
import Testing

/// End users and budget tiers in both stores: rows, the end users' spend charging (which makes
/// the row of an end user not seen before), and deleting a tier unlinking its records.
@Suite struct EndUserStoreTests {
    @Test(arguments: StoreBackend.all)
    func endUsersAndTiersRoundTrip(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            var tier = Budget(budgetID: "gold", createdAt: 10)
            tier.limits = Limits(models: ["m"], maxBudget: 5, budgetDuration: "1d", budgetResetAt: 86_410, rpmLimit: 7)
            tier.softBudget = 4
            tier.tpdLimit = 1000
            tier.modelMaxBudget = #"{"gpt-4o":{"budget_limit":1}}"#
            try await store.insert(tier)
            #expect(try await store.fetch(Budget.self, id: "gold") == tier)
            var endUser = EndUser(userID: "alice@example.com", createdAt: 11)
            endUser.alias = "Alice"
            endUser.blocked = true
            endUser.allowedModelRegion = "eu"
            endUser.defaultModel = "m"
            endUser.budgetID = "gold"
            endUser.limits.models = ["m"]
            try await store.insert(endUser)
            #expect(try await store.fetch(EndUser.self, id: "alice@example.com") == endUser)
            try await store.insert(EndUser(userID: "bob", createdAt: 12))
            #expect(try await store.all(EndUser.self).map(\.userID) == ["alice@example.com", "bob"])
            #expect(try await store.all(Budget.self).map(\.budgetID) == ["gold"])
        }
    }

    @Test(arguments: StoreBackend.all)
    func spendChargesEndUsersAndMakesTheRowsOfNewOnes(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.insert(EndUser(userID: "known", createdAt: 1))
            var first = spendRow("r1", spend: 0.25)
            first.endUser = "known"
            var second = spendRow("r2", spend: 0.5)
            second.endUser = "known"
            var third = spendRow("r3", spend: 0.125, at: 1_700_000_000_000)
            third.endUser = "new"
            var free = spendRow("r4", spend: 0)
            free.endUser = "free"
            try await store.recordSpend([first, second, third, free])
            // Replayed: a request id already stored charges nothing again.
            try await store.recordSpend([first])
            #expect(try await store.fetch(EndUser.self, id: "known")?.limits.spend == 0.75)
            let made = try #require(try await store.fetch(EndUser.self, id: "new"))
            #expect(made.limits.spend == 0.125 && !made.blocked && made.budgetID == nil && made.limits.models.isEmpty)
            // Made at the request's end (`spendRow` ends 120 ms after it starts).
            #expect(made.createdAt == 1_700_000_000.12)
            // No cost, no row (as for every owner, only spend is charged).
            #expect(try await store.fetch(EndUser.self, id: "free") == nil)
        }
    }

    @Test(arguments: StoreBackend.all)
    func deletingATierUnlinksItsRecordsAndTiersAreNeverCharged(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.insert(Budget(budgetID: "t", createdAt: 1))
            try await store.insert(Budget(budgetID: "other", createdAt: 1))
            var key = VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 1)
            key.budgetID = "t"
            try await store.insert(key)
            var organization = Organization(organizationID: "o", organizationAlias: "O", createdAt: 1)
            organization.budgetID = "t"
            try await store.insert(organization)
            var endUser = EndUser(userID: "e", createdAt: 1)
            endUser.budgetID = "t"
            try await store.insert(endUser)
            var kept = EndUser(userID: "kept", createdAt: 1)
            kept.budgetID = "other"
            try await store.insert(kept)
            var row = spendRow("r1", key: "k1", team: nil, spend: 1)
            row.endUser = "e"
            try await store.recordSpend([row])
            #expect(try await store.fetch(Budget.self, id: "t")?.limits.spend == 0)
            #expect(try await store.delete(Budget.self, ids: ["t"]) == 1)
            #expect(try await store.fetch(Budget.self, id: "t") == nil)
            #expect(try await store.fetch(VirtualKey.self, id: "k1")?.budgetID == nil)
            #expect(try await store.fetch(Organization.self, id: "o")?.budgetID == nil)
            let unlinked = try await store.fetch(EndUser.self, id: "e")
            #expect(unlinked?.budgetID == nil && unlinked?.limits.spend == 1)
            #expect(try await store.fetch(EndUser.self, id: "kept")?.budgetID == "other")
        }
    }

    /// A record without its own reset time (one on its tier's period) has its period started,
    /// its spend kept, once; its spend is zeroed only when that period ends.
    @Test(arguments: StoreBackend.all)
    func aRecordWithoutItsOwnResetTimeStartsItsPeriodKeepingItsSpend(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            var endUser = EndUser(userID: "e", createdAt: 1)
            endUser.limits.spend = 3
            try await store.insert(endUser)
            var key = VirtualKey(token: "k", keyName: "sk-...k", createdAt: 1)
            key.limits.spend = 2
            try await store.insert(key)
            #expect(try await store.resetBudget(of: .endUser, id: "e", dueBy: 100, next: 160))
            #expect(try await !store.resetBudget(of: .endUser, id: "e", dueBy: 100, next: 160))
            #expect(try await store.resetBudget(of: .key, id: "k", dueBy: 100, next: 160))
            let started = try await store.fetch(EndUser.self, id: "e")
            #expect(started?.limits.spend == 3 && started?.limits.budgetResetAt == 160)
            let startedKey = try await store.fetch(VirtualKey.self, id: "k")
            #expect(startedKey?.limits.spend == 2 && startedKey?.limits.budgetResetAt == 160)
            // Not yet due; then due: zeroed and the next period set.
            #expect(try await !store.resetBudget(of: .endUser, id: "e", dueBy: 159, next: 219))
            #expect(try await store.resetBudget(of: .endUser, id: "e", dueBy: 160, next: 220))
            let reset = try await store.fetch(EndUser.self, id: "e")
            #expect(reset?.limits.spend == 0 && reset?.limits.budgetResetAt == 220)
        }
    }
}
