import Foundation
import GRDB
import Synchronization
import Testing

@testable import Store

func temporaryDatabasePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spanway-test-\(UUID().uuidString).db").path
}

func spendRow(_ id: String, key: String? = "k1", team: String? = "t1", spend: Double = 0.5, at millis: Int64 = 1_700_000_000_000)
    -> SpendRow
{
    SpendRow(
        requestID: id, traceID: "trace-\(id)", startTime: millis, endTime: millis + 120, keyHash: key, teamID: team,
        operation: "chat", model: "gpt-4o-mini", modelGroup: "gpt-4o-mini", provider: "openai", inputTokens: 10,
        outputTokens: 5, spend: spend, statusCode: 200)
}

@Suite struct SQLiteStoreTests {
    @Test func keysRoundTripAndOnlyTheDigestIsStored() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let raw = "sk-raw-secret-key-123456"
        let key = VirtualKey(
            token: KeyDigest(key: raw).hex, keyName: VirtualKey.displayName(of: raw), keyAlias: "app",
            models: ["gpt-4o-mini"], aliases: ["gpt-4": "gpt-4o-mini"], maxBudget: 10, metadata: #"{"env":"prod"}"#,
            createdAt: 1)
        try await store.insertKey(key)
        #expect(try await store.key(token: key.token) == key)
        var changed = key
        changed.blocked = true
        try await store.updateKey(changed)
        #expect(try await store.key(token: key.token)?.blocked == true)
        #expect(key.keyName == "sk-...3456")
        // Nothing on disk contains the raw key.
        for suffix in ["", "-wal", "-shm"] {
            let bytes = FileManager.default.contents(atPath: path + suffix) ?? Data()
            #expect(bytes.range(of: Data(raw.utf8)) == nil, "raw key found in \(path + suffix)")
        }
        #expect(try await store.deleteKeys(tokens: [key.token, "missing"]) == 1)
        #expect(try await store.key(token: key.token) == nil)
    }

    @Test func listingIsPagedAndFiltered() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        for i in 0..<5 {
            try await store.insertKey(VirtualKey(token: "tok\(i)", keyName: "sk-...000\(i)", teamID: i < 3 ? "a" : "b", createdAt: Double(i)))
        }
        let page = try await store.keys(teamID: "a", userID: nil, limit: 2, offset: 1)
        #expect(page.total == 3 && page.keys.map(\.token) == ["tok1", "tok2"])
        #expect(try await store.keys(teamID: nil, userID: nil, limit: 10, offset: 0).total == 5)
    }

    @Test func spendIsIdempotentAndRolledUp() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.insertKey(VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 0))
        try await store.recordSpend([spendRow("r1"), spendRow("r2")])
        try await store.recordSpend([spendRow("r1")])  // a retried commit
        #expect(try await store.key(token: "k1")?.spend == 1.0)
        #expect(try await store.spendLogs(SpendQuery()).count == 2)
        let daily = try await store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT day, requests, input_tokens, spend FROM daily_spend")
        }
        #expect(daily?["day"] == "2023-11-14")
        #expect(daily?["requests"] == 2 && daily?["input_tokens"] == 20)
    }

    @Test func spendLogFilters() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.recordSpend([
            spendRow("a", key: "k1", team: "t1", at: 1000), spendRow("b", key: "k2", team: "t1", at: 2000),
            spendRow("c", key: "k2", team: "t2", at: 3000),
        ])
        #expect(try await store.spendLogs(SpendQuery(keyHash: "k2")).map(\.requestID) == ["c", "b"])
        #expect(try await store.spendLogs(SpendQuery(teamID: "t1")).count == 2)
        #expect(try await store.spendLogs(SpendQuery(since: 2000, until: 3000)).map(\.requestID) == ["b"])
        #expect(try await store.spendLogs(SpendQuery(limit: 1, offset: 1)).map(\.requestID) == ["b"])
    }

    @Test func reportsGroupAndFilterByTime() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.recordSpend([
            spendRow("a", team: "t1", spend: 1, at: 86_400_000), spendRow("b", team: "t1", spend: 2, at: 86_400_000 * 2),
            spendRow("c", team: "t2", spend: 5, at: 86_400_000 * 2), spendRow("d", team: nil, spend: 0.5, at: 86_400_000 * 3),
        ])
        let byTeam = try await store.spendReport(by: .team, since: nil, until: nil)
        #expect(byTeam == [
            SpendTotal(group: "t2", requests: 1, inputTokens: 10, outputTokens: 5, spend: 5),
            SpendTotal(group: "t1", requests: 2, inputTokens: 20, outputTokens: 10, spend: 3),
            SpendTotal(group: "", requests: 1, inputTokens: 10, outputTokens: 5, spend: 0.5),
        ])
        let byDay = try await store.spendReport(by: .day, since: 86_400_000 * 2, until: 86_400_000 * 3)
        #expect(byDay.map(\.group) == ["1970-01-03"] && byDay.first?.spend == 7)
    }

    @Test func budgetResetHappensOnceWhenDue() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.insertKey(VirtualKey(token: "k1", keyName: "sk-...k1", budgetDuration: "30s", budgetResetAt: 100, createdAt: 0))
        try await store.recordSpend([spendRow("r1")])
        #expect(try await !store.resetBudget(of: .key, id: "k1", dueBy: 99, next: 129))
        #expect(try await store.resetBudget(of: .key, id: "k1", dueBy: 100, next: 130))
        #expect(try await !store.resetBudget(of: .key, id: "k1", dueBy: 100, next: 130))
        let key = try await store.key(token: "k1")
        #expect(key?.spend == 0 && key?.budgetResetAt == 130)
    }

    @Test func teamsRoundTripCarrySpendAndTakeTheirKeysWithThem() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        var team = Team(teamID: "t1", createdAt: 1)
        team.members = [Team.Member(userID: "u1", role: "admin")]
        team.models = ["gpt-4o-mini"]
        try await store.insertTeam(team)
        #expect(try await store.team(id: "t1") == team)
        try await store.insertKey(VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0))
        try await store.recordSpend([spendRow("r1", key: "k1", team: "t1", spend: 2)])
        #expect(try await store.team(id: "t1")?.spend == 2)
        #expect(try await store.deleteTeams(ids: ["t1", "nope"]) == 1)
        #expect(try await store.key(token: "k1") == nil)
        #expect(try await store.teams().isEmpty)
    }

    @Test func usersCarrySpendAndTakeTheirKeysWithThem() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        var user = User(userID: "u1", createdAt: 1)
        user.userEmail = "ada@example.com"
        try await store.insertUser(user)
        #expect(try await store.user(id: "u1") == user)
        try await store.insertKey(VirtualKey(token: "k1", keyName: "sk-...k1", userID: "u1", createdAt: 0))
        try await store.recordSpend([spendRow("r1", key: "k1", team: nil, spend: 3)].map { row in
            var row = row
            row.userID = "u1"
            return row
        })
        #expect(try await store.user(id: "u1")?.spend == 3)
        #expect(try await store.keys(teamID: nil, userID: "u1", limit: 10, offset: 0).total == 1)
        #expect(try await store.users(limit: 10, offset: 0).total == 1)
        #expect(try await store.deleteUsers(ids: ["u1"]) == 1)
        #expect(try await store.key(token: "k1") == nil)
    }

    @Test func deletingAnOrganizationTakesItsTeamsAndTheirKeys() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.insertOrganization(Organization(organizationID: "o1", organizationAlias: "Acme", createdAt: 0))
        var team = Team(teamID: "t1", createdAt: 0)
        team.organizationID = "o1"
        try await store.insertTeam(team)
        try await store.insertTeam(Team(teamID: "t2", createdAt: 0))
        try await store.insertKey(VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0))
        var row = spendRow("r1", key: "k1", team: "t1", spend: 4)
        row.orgID = "o1"
        try await store.recordSpend([row])
        #expect(try await store.organization(id: "o1")?.spend == 4)
        #expect(try await store.deleteOrganizations(ids: ["o1"]) == 1)
        #expect(try await store.team(id: "t1") == nil)
        #expect(try await store.team(id: "t2") != nil)
        #expect(try await store.key(token: "k1") == nil)
    }

    @Test func reopeningKeepsDataAndDoesNotRemigrate() async throws {
        let path = temporaryDatabasePath()
        try await SQLiteStore(path: path).recordSpend([spendRow("x")])
        #expect(try await SQLiteStore(path: path).spendLogs(SpendQuery()).count == 1)
    }
}

/// Counts transactions, to show that concurrent commits share them, and can fail every write.
final class CountingStore: GatewayStore {
    struct WriteFailure: Error {}
    let inner: SQLiteStore
    let failWrites: Bool
    let transactions = Atomic<Int>(0)
    init(_ inner: SQLiteStore, failWrites: Bool = false) {
        self.inner = inner
        self.failWrites = failWrites
    }
    func recordSpend(_ rows: [SpendRow]) async throws {
        transactions.add(1, ordering: .relaxed)
        if failWrites { throw WriteFailure() }
        try await inner.recordSpend(rows)
    }
    func insertKey(_ key: VirtualKey) async throws { try await inner.insertKey(key) }
    func key(token: String) async throws -> VirtualKey? { try await inner.key(token: token) }
    func updateKey(_ key: VirtualKey) async throws { try await inner.updateKey(key) }
    func deleteKeys(tokens: [String]) async throws -> Int { try await inner.deleteKeys(tokens: tokens) }
    func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        try await inner.keys(teamID: teamID, userID: userID, limit: limit, offset: offset)
    }
    func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] { try await inner.spendLogs(query) }
    func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        try await inner.spendReport(by: grouping, since: since, until: until)
    }
    func insertTeam(_ team: Team) async throws { try await inner.insertTeam(team) }
    func team(id: String) async throws -> Team? { try await inner.team(id: id) }
    func updateTeam(_ team: Team) async throws { try await inner.updateTeam(team) }
    func deleteTeams(ids: [String]) async throws -> Int { try await inner.deleteTeams(ids: ids) }
    func teams() async throws -> [Team] { try await inner.teams() }
    func insertUser(_ user: User) async throws { try await inner.insertUser(user) }
    func user(id: String) async throws -> User? { try await inner.user(id: id) }
    func updateUser(_ user: User) async throws { try await inner.updateUser(user) }
    func deleteUsers(ids: [String]) async throws -> Int { try await inner.deleteUsers(ids: ids) }
    func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) { try await inner.users(limit: limit, offset: offset) }
    func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        try await inner.resetBudget(of: owner, id: id, dueBy: now, next: next)
    }
    func insertOrganization(_ organization: Organization) async throws { try await inner.insertOrganization(organization) }
    func organization(id: String) async throws -> Organization? { try await inner.organization(id: id) }
    func updateOrganization(_ organization: Organization) async throws { try await inner.updateOrganization(organization) }
    func deleteOrganizations(ids: [String]) async throws -> Int { try await inner.deleteOrganizations(ids: ids) }
    func organizations() async throws -> [Organization] { try await inner.organizations() }
}

@Suite struct SpendLedgerTests {
    @Test func concurrentCommitsAllLandInSharedTransactions() async throws {
        let store = CountingStore(try SQLiteStore(path: temporaryDatabasePath()))
        let ledger = SpendLedger(store: store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 { group.addTask { try await ledger.commit(spendRow("r\(i)")) } }
            try await group.waitForAll()
        }
        #expect(try await store.spendLogs(SpendQuery(limit: 1000)).count == 200)
        let transactions = store.transactions.load(ordering: .relaxed)
        #expect(transactions >= 1 && transactions < 200, "\(transactions) transactions for 200 rows")
    }

    @Test func aFailedWriteIsReportedToEveryWaiter() async throws {
        let ledger = SpendLedger(store: CountingStore(try SQLiteStore(path: temporaryDatabasePath()), failWrites: true))
        await #expect(throws: CountingStore.WriteFailure.self) { try await ledger.commit(spendRow("x")) }
    }
}
