import Testing

@testable import Store

/// A team's spend by member, as `/team/info` shows LiteLLM's team memberships, summed by the
/// database on both stores.
@Suite struct TeamMemberSpendTests {
    @Test(arguments: StoreBackend.all)
    func eachMembersSpendOnTheTeamIsSummed(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            func row(_ id: String, team: String?, user: String?, spend: Double) -> SpendRow {
                var row = spendRow(id, team: team, spend: spend)
                row.userID = user
                return row
            }
            try await test.store.recordSpend([
                row("a", team: "t", user: "u1", spend: 0.25), row("b", team: "t", user: "u1", spend: 0.5),
                row("c", team: "t", user: "u2", spend: 0.125), row("d", team: "other", user: "u1", spend: 8),
                row("e", team: "t", user: nil, spend: 4), row("f", team: nil, user: "u2", spend: 16),
            ])
            #expect(try await test.store.teamMemberSpend(teamID: "t") == ["u1": 0.75, "u2": 0.125])
            #expect(try await test.store.teamMemberSpend(teamID: "none").isEmpty)
        }
    }
}
