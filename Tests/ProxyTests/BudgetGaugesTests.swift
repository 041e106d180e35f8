import Foundation
import HTTPTypes
import Logging
import Store
import Synchronization
import Testing

@testable import Proxy

/// The store, counting every call: a scrape must not make any.
final class CountingStore: GatewayStore {
    let base: any GatewayStore
    let calls = Atomic<Int>(0)

    init(_ base: any GatewayStore) { self.base = base }

    private func count() { calls.add(1, ordering: .relaxed) }

    func insert<Record: LimitedRecord>(_ record: Record) async throws { count(); try await base.insert(record) }
    func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        count()
        return try await base.fetch(type, id: id)
    }
    func update<Record: LimitedRecord>(_ record: Record) async throws { count(); try await base.update(record) }
    func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        count()
        return try await base.delete(type, ids: ids)
    }
    func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        count()
        return try await base.keys(teamID: teamID, userID: userID, limit: limit, offset: offset)
    }
    func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        count()
        return try await base.users(limit: limit, offset: offset)
    }
    func teams() async throws -> [Team] { count(); return try await base.teams() }
    func organizations() async throws -> [Organization] { count(); return try await base.organizations() }
    func recordSpend(_ rows: [SpendRow]) async throws { count(); try await base.recordSpend(rows) }
    func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] { count(); return try await base.spendLogs(query) }
    func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        count()
        return try await base.resetBudget(of: owner, id: id, dueBy: now, next: next)
    }
    func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        count()
        return try await base.spendReport(by: grouping, since: since, until: until)
    }
    func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult { count(); return try await base.analytics(query) }
    func pruneSpendLogs(before: Int64) async throws -> Int { count(); return try await base.pruneSpendLogs(before: before) }
}

@Suite struct BudgetGaugesTests {
    static func temporaryStore() throws -> SQLiteStore {
        try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("gauges-\(UUID().uuidString).db").path)
    }

    /// The value of the sample named exactly `series` (name and labels) in a text exposition.
    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    func key(_ raw: String, alias: String? = nil, budget: Double?, team: String? = nil, user: String? = nil) -> VirtualKey {
        var key = VirtualKey(
            token: KeyDigest(key: raw).hex, keyName: "sk-...", keyAlias: alias, teamID: team, userID: user, createdAt: 0)
        key.limits.maxBudget = budget
        return key
    }

    func figure(_ gauges: BudgetGauges, _ scope: String, _ name: String) -> Double? {
        gauges.figures().budgets.first { $0.scope == scope && $0.name == name }?.remaining
    }

    @Test func onlyBoundedNonPersonalNamesAreShown() {
        let gauges = BudgetGauges()
        var team = Team(teamID: "t-1", createdAt: 0)
        team.limits.maxBudget = 10
        var unaliasedTeam = Team(teamID: "t-2", createdAt: 0)
        unaliasedTeam.limits.maxBudget = 5
        var user = User(userID: "bob@corp.example", createdAt: 0)
        user.limits.maxBudget = 1
        team.teamAlias = "Research"
        let aliased = key("sk-a", alias: "billing-app", budget: 2, team: "t-1", user: "bob@corp.example")
        let unaliased = key("sk-b", budget: 0.5)
        for record in [aliased, unaliased] as [any BudgetedRecord] + [team, unaliasedTeam, user] { gauges.changed(record) }
        gauges.settled(Principal(caller: .init(), isMaster: false, key: unaliased), cost: 0.75)
        gauges.settled(Principal(caller: .init(), isMaster: false, key: aliased, team: team, user: user), cost: 1.5)

        let (budgets, exhausted) = gauges.figures()
        #expect(Set(budgets.map { "\($0.scope)/\($0.name)" }) == ["key/billing-app", "team/Research", "team/t-2"])
        #expect(figure(gauges, "key", "billing-app") == 0.5)
        #expect(figure(gauges, "team", "Research") == 8.5)
        #expect(exhausted == ["key": 1, "user": 1, "team": 0, "organization": 0])
        let everything = budgets.map { "\($0.scope) \($0.name)" }.joined()
        #expect(!everything.contains("bob@") && !everything.contains(aliased.token) && !everything.contains(unaliased.token))
    }

    @Test func aNewPeriodStartsFromTheRecordsSpend() {
        let gauges = BudgetGauges()
        var record = key("sk-a", alias: "a", budget: 1)
        record.limits.budgetResetAt = 100
        gauges.changed(record)
        gauges.settled(Principal(caller: .init(), isMaster: false, key: record), cost: 0.5)
        #expect(figure(gauges, "key", "a") == 0.5)
        // Reset by the authenticator: the store's spend is 0, the period ends later.
        record.limits.budgetResetAt = 200
        gauges.refreshed(record)
        #expect(figure(gauges, "key", "a") == 1)
        // A request admitted before the reset settles after it: the store adds it to the new period.
        var stale = record
        stale.limits.budgetResetAt = 100
        stale.limits.spend = 0.5
        gauges.settled(Principal(caller: .init(), isMaster: false, key: stale), cost: 0.25)
        #expect(figure(gauges, "key", "a") == 0.75)
    }

    @Test func deletionsCascadeAndInFlightRequestsDoNotBringThemBack() {
        let gauges = BudgetGauges()
        var organization = Organization(organizationID: "o-1", organizationAlias: "", createdAt: 0)
        organization.limits.maxBudget = 100
        var team = Team(teamID: "t-1", createdAt: 0)
        team.organizationID = "o-1"
        team.limits.maxBudget = 10
        let teamKey = key("sk-a", alias: "a", budget: 1, team: "t-1")
        let other = key("sk-b", alias: "b", budget: 1)
        for record in [organization, team, teamKey, other] as [any BudgetedRecord] { gauges.changed(record) }
        #expect(figure(gauges, "organization", "o-1") == 100)
        gauges.deleted(kind: "organization", ids: ["o-1"])
        #expect(gauges.figures().budgets.map(\.name) == ["b"])
        gauges.settled(
            Principal(caller: .init(), isMaster: false, key: teamKey, team: team, organization: organization), cost: 0.1)
        #expect(gauges.figures().budgets.map(\.name) == ["b"])
        // A key whose budget is removed leaves the series; a stale request does not restore it.
        var unbudgeted = other
        unbudgeted.limits.maxBudget = nil
        gauges.changed(unbudgeted)
        gauges.settled(Principal(caller: .init(), isMaster: false, key: other), cost: 0.1)
        #expect(gauges.figures().budgets.isEmpty)
    }

    @Test func theLoadAddsOnlyWhatIsNotKnownYet() async throws {
        let store = try Self.temporaryStore()
        try await store.insert(key("sk-a", alias: "a", budget: 1))
        try await store.insert(key("sk-b", alias: "b", budget: 1))
        try await store.insert(key("sk-c", alias: "c", budget: 1))
        try await store.recordSpend([
            SpendRow(
                requestID: "r1", traceID: "t", startTime: 0, endTime: 0, keyHash: KeyDigest(key: "sk-a").hex, operation: "chat",
                spend: 0.25, statusCode: 200)
        ])
        let gauges = BudgetGauges(loadPageSize: 2, loadPages: 5)
        // Settled before the load: already known, so the load must not replace it.
        var known = key("sk-b", alias: "b", budget: 1)
        known.limits.spend = 0
        gauges.settled(Principal(caller: .init(), isMaster: false, key: known), cost: 0.5)
        gauges.deleted(kind: "key", ids: [KeyDigest(key: "sk-c").hex])
        await gauges.loadOnce(from: store, logger: Logger(label: "test"))
        #expect(figure(gauges, "key", "a") == 0.75)
        #expect(figure(gauges, "key", "b") == 0.5)
        #expect(figure(gauges, "key", "c") == nil)
    }

    /// With many budgeted keys, scrapes after the first read nothing from the store, and the gauge
    /// of a key equals its max_budget minus the spend the ledger recorded.
    @Test func scrapesReadNoStoreAndFollowTheLedger() async throws {
        let counting = CountingStore(try Self.temporaryStore())
        for index in 0..<300 {
            try await counting.insert(key("sk-bulk-\(index)-padding-pad", alias: "bulk-\(index)", budget: 5))
        }
        let config = try ProviderCatalogue.configLoader(environment: [:]).load(
            yaml: """
                model_list: [{model_name: local, litellm_params: {model: mock/gpt-4o-mini}}]
                general_settings: {master_key: sk-gauges-master}
                """)
        let client = GatewayBootstrap.makeHTTPClient()
        let gateway = try GatewayBootstrap(
            config: config, environment: [:], httpClient: client, store: counting, logger: Logger(label: "test")
        ).makeGateway()
        _ = await gateway.metricsText()
        let before = counting.calls.load(ordering: .relaxed)
        var text = ""
        for _ in 0..<5 { text = String(decoding: await gateway.metricsText(), as: UTF8.self) }
        #expect(counting.calls.load(ordering: .relaxed) == before, "a scrape read the store")
        #expect(Self.sample(text, #"spanway_budget_remaining_usd{scope="key",name="bulk-299"}"#) == 5)

        // What settle does for a request of bulk-7: tell the gauges, then commit the ledger row.
        var headers = HTTPFields()
        headers[.authorization] = "Bearer sk-bulk-7-padding-pad"
        let principal = try await gateway.authenticator.authenticate(headers)
        gateway.budgetGauges.settled(principal, cost: 0.125)
        try await counting.recordSpend([
            SpendRow(
                requestID: "q-1", traceID: "t", startTime: 0, endTime: 0, keyHash: principal.caller.keyHash, operation: "chat",
                spend: 0.125, statusCode: 200)
        ])
        let ledger = try #require(try await counting.fetch(VirtualKey.self, id: KeyDigest(key: "sk-bulk-7-padding-pad").hex))
        text = String(decoding: await gateway.metricsText(), as: UTF8.self)
        #expect(ledger.limits.spend == 0.125)
        #expect(Self.sample(text, #"spanway_budget_remaining_usd{scope="key",name="bulk-7"}"#) == 5 - ledger.limits.spend)
        try await client.shutdown()
    }
}
