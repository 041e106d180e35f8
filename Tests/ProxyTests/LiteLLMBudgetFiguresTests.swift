import Sinks
import Store
import Testing

@testable import Proxy

/// The budgets LiteLLM's series show (`prometheus_names: [litellm]`): each budgeted key by its
/// digest and alias, each budgeted team by its id and alias (none when it has only an id); users
/// and organisations are not among them.
@Suite struct LiteLLMBudgetFiguresTests {
    @Test func keysByDigestAndTeamsByIDWithTheirAliases() {
        let gauges = BudgetGauges()
        var key = VirtualKey(token: "ab12", keyName: "sk-...", keyAlias: "billing-app", teamID: "t-1", createdAt: 0)
        key.limits.maxBudget = 2
        var unaliasedKey = VirtualKey(token: "cd34", keyName: "sk-...", createdAt: 0)
        unaliasedKey.limits.maxBudget = 1
        var team = Team(teamID: "t-1", createdAt: 0)
        team.teamAlias = "Research"
        team.limits.maxBudget = 10
        var bare = Team(teamID: "t-2", createdAt: 0)
        bare.limits.maxBudget = 5
        var user = User(userID: "bob@corp.example", createdAt: 0)
        user.limits.maxBudget = 1
        for record in [key, unaliasedKey] as [any BudgetedRecord] + [team, bare, user] { gauges.changed(record) }
        gauges.settled(Principal(caller: .init(), isMaster: false, key: key, team: team), cost: 1.5)

        let budgets = gauges.litellmBudgets().sorted { $0.id < $1.id }
        #expect(
            budgets == [
                LiteLLMMetrics.Budget(scope: .key, id: "ab12", alias: "billing-app", maxBudget: 2, spend: 1.5),
                LiteLLMMetrics.Budget(scope: .key, id: "cd34", alias: nil, maxBudget: 1, spend: 0),
                LiteLLMMetrics.Budget(scope: .team, id: "t-1", alias: "Research", maxBudget: 10, spend: 1.5),
                LiteLLMMetrics.Budget(scope: .team, id: "t-2", alias: nil, maxBudget: 5, spend: 0),
            ])
    }
}
