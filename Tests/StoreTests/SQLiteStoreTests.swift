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
    @Test(arguments: StoreBackend.all)
    func keysRoundTripUpdateAndDelete(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            let key = VirtualKey(
                token: KeyDigest(key: "sk-raw-secret-key-123456").hex, keyName: "sk-...3456", keyAlias: "app",
                aliases: ["gpt-4": "gpt-4o-mini"], limits: Limits(models: ["gpt-4o-mini"], maxBudget: 10),
                metadata: #"{"env":"prod"}"#, createdAt: 1)
            try await store.insert(key)
            #expect(try await store.fetch(VirtualKey.self, id: key.token) == key)
            var changed = key
            changed.blocked = true
            try await store.update(changed)
            #expect(try await store.fetch(VirtualKey.self, id: key.token)?.blocked == true)
            #expect(try await store.delete(VirtualKey.self, ids: [key.token, "missing"]) == 1)
            #expect(try await store.fetch(VirtualKey.self, id: key.token) == nil)
        }
    }

    /// Every limit of every kind of record is a column of its own table, and comes back as written.
    @Test(arguments: StoreBackend.all)
    func limitsRoundTripAsColumnsOfEachTable(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            let limits = Limits(
                models: ["gpt-4o-mini", "claude"], maxBudget: 12.5, budgetDuration: "30d", budgetResetAt: 1_700_000_000,
                spend: 0.25, tpmLimit: 1000, rpmLimit: 60, maxParallelRequests: 3)
            var key = VirtualKey(token: "k1", keyName: "sk-...k1", limits: limits, createdAt: 0)
            key.softBudget = 5
            var team = Team(teamID: "t1", createdAt: 0)
            team.limits = limits
            var user = User(userID: "u1", createdAt: 0)
            user.limits = limits
            var organization = Organization(organizationID: "o1", organizationAlias: "Acme", createdAt: 0)
            organization.limits = limits
            try await store.insert(key)
            try await store.insert(team)
            try await store.insert(user)
            try await store.insert(organization)
            #expect(try await store.fetch(VirtualKey.self, id: "k1") == key)
            #expect(try await store.fetch(Team.self, id: "t1") == team)
            #expect(try await store.fetch(User.self, id: "u1") == user)
            #expect(try await store.fetch(Organization.self, id: "o1") == organization)
            // The column values themselves, read with SQL (SQLite only; PostgreSQL keeps the same types).
            if let sqlite = store as? SQLiteStore {
                for table in ["keys", "teams", "users", "organizations"] {
                    let row = try #require(
                        try await sqlite.pool.read { db in
                            try Row.fetchOne(
                                db,
                                sql: """
                                    SELECT models, max_budget, budget_duration, budget_reset_at, spend, tpm_limit, rpm_limit,
                                           max_parallel_requests FROM \(table)
                                    """)
                        })
                    let models: String? = row["models"]
                    let durations: [String?] = [row["budget_duration"]]
                    let amounts: [Double?] = [row["max_budget"], row["budget_reset_at"], row["spend"]]
                    let counts: [Int?] = [row["tpm_limit"], row["rpm_limit"], row["max_parallel_requests"]]
                    #expect(models == #"["gpt-4o-mini","claude"]"#, "\(table)")
                    #expect(durations == ["30d"], "\(table)")
                    #expect(amounts == [12.5, 1_700_000_000, 0.25], "\(table)")
                    #expect(counts == [1000, 60, 3], "\(table)")
                }
            }
            // Cleared limits are NULL columns again.
            key.limits = Limits()
            try await store.update(key)
            #expect(try await store.fetch(VirtualKey.self, id: "k1")?.limits == Limits())
        }
    }

    /// Columns are found by name from properties (`teamID` is `team_id`): every column of every
    /// table names exactly one stored property of its record, so none decodes as a silent nil.
    @Test func everyColumnNamesAPropertyOfItsRecord() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        func properties(_ value: Any) -> Set<String> {
            Set(Mirror(reflecting: value).children.compactMap(\.label).filter { $0 != "limits" })
                .union(Mirror(reflecting: Limits()).children.compactMap(\.label))
        }
        let records: [(table: String, properties: Set<String>)] = [
            ("keys", properties(VirtualKey(token: "", keyName: "", createdAt: 0))),
            ("teams", properties(Team(teamID: "", createdAt: 0))),
            ("users", properties(User(userID: "", createdAt: 0))),
            ("organizations", properties(Organization(organizationID: "", organizationAlias: "", createdAt: 0))),
            (
                "spend_logs",
                Set(Mirror(reflecting: spendRow("r")).children.compactMap(\.label))
            ),
        ]
        for (table, expected) in records {
            let columns = try await store.pool.read { db in try db.columns(in: table).map(\.name) }
            #expect(Set(columns.map(ColumnKey.property(forColumn:))) == expected, "\(table)")
            #expect(columns.count == expected.count, "\(table)")
        }
    }

    @Test(arguments: StoreBackend.all)
    func listingIsPagedAndFiltered(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            for i in 0..<5 {
                try await store.insert(
                    VirtualKey(token: "tok\(i)", keyName: "sk-...000\(i)", teamID: i < 3 ? "a" : "b", createdAt: Double(i)))
            }
            let page = try await store.keys(teamID: "a", userID: nil, limit: 2, offset: 1)
            #expect(page.total == 3 && page.keys.map(\.token) == ["tok1", "tok2"])
            #expect(try await store.keys(teamID: nil, userID: nil, limit: 10, offset: 0).total == 5)
        }
    }

    @Test(arguments: StoreBackend.all)
    func spendIsIdempotentAndRolledUp(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.insert(VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 0))
            try await store.recordSpend([spendRow("r1"), spendRow("r2")])
            try await store.recordSpend([spendRow("r1")])  // a retried commit
            #expect(try await store.fetch(VirtualKey.self, id: "k1")?.limits.spend == 1.0)
            #expect(try await store.spendLogs(SpendQuery()).count == 2)
            let daily = try await test.rollups()
            #expect(daily.map(\.day) == ["2023-11-14"])
            #expect(daily.first?.requests == 2 && daily.first?.inputTokens == 20)
        }
    }

    @Test(arguments: StoreBackend.all)
    func spendLogFilters(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.recordSpend([
                spendRow("a", key: "k1", team: "t1", at: 1000), spendRow("b", key: "k2", team: "t1", at: 2000),
                spendRow("c", key: "k2", team: "t2", at: 3000),
            ])
            #expect(try await store.spendLogs(SpendQuery(keyHash: "k2")).map(\.requestID) == ["c", "b"])
            #expect(try await store.spendLogs(SpendQuery(teamID: "t1")).count == 2)
            #expect(try await store.spendLogs(SpendQuery(since: 2000, until: 3000)).map(\.requestID) == ["b"])
            #expect(try await store.spendLogs(SpendQuery(limit: 1, offset: 1)).map(\.requestID) == ["b"])
        }
    }

    @Test(arguments: StoreBackend.all)
    func reportsGroupAndFilterByTime(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.recordSpend([
                spendRow("a", team: "t1", spend: 1, at: 86_400_000), spendRow("b", team: "t1", spend: 2, at: 86_400_000 * 2),
                spendRow("c", team: "t2", spend: 5, at: 86_400_000 * 2), spendRow("d", team: nil, spend: 0.5, at: 86_400_000 * 3),
            ])
            let byTeam = try await store.spendReport(by: .team, since: nil, until: nil)
            #expect(
                byTeam == [
                    SpendTotal(group: "t2", requests: 1, inputTokens: 10, outputTokens: 5, spend: 5),
                    SpendTotal(group: "t1", requests: 2, inputTokens: 20, outputTokens: 10, spend: 3),
                    SpendTotal(group: "", requests: 1, inputTokens: 10, outputTokens: 5, spend: 0.5),
                ])
            let byDay = try await store.spendReport(by: .day, since: 86_400_000 * 2, until: 86_400_000 * 3)
            #expect(byDay.map(\.group) == ["1970-01-03"] && byDay.first?.spend == 7)
        }
    }

    @Test(arguments: StoreBackend.all, BudgetOwner.allCases)
    func budgetResetHappensOnceWhenDue(backend: StoreBackend, owner: BudgetOwner) async throws {
        try await backend.withStore { test in
            let store = test.store
            let limits = Limits(budgetDuration: "30s", budgetResetAt: 100)
            var row = spendRow("r1", key: "k1", team: "t1")
            row.userID = "u1"
            row.orgID = "o1"
            try await store.insert(VirtualKey(token: "k1", keyName: "sk-...k1", limits: limits, createdAt: 0))
            var team = Team(teamID: "t1", createdAt: 0)
            team.limits = limits
            try await store.insert(team)
            var user = User(userID: "u1", createdAt: 0)
            user.limits = limits
            try await store.insert(user)
            var organization = Organization(organizationID: "o1", organizationAlias: "Acme", createdAt: 0)
            organization.limits = limits
            try await store.insert(organization)
            var endUser = EndUser(userID: "e1", createdAt: 0)
            endUser.limits = limits
            try await store.insert(endUser)
            var tier = Budget(budgetID: "b1", createdAt: 0)
            tier.limits = limits
            try await store.insert(tier)
            row.endUser = "e1"
            try await store.recordSpend([row])
            let ids = ["key": "k1", "team": "t1", "user": "u1", "organization": "o1", "end_user": "e1", "budget": "b1"]
            let id = ids[owner.rawValue] ?? ""
            #expect(try await !store.resetBudget(of: owner, id: id, dueBy: 99, next: 129))
            #expect(try await store.resetBudget(of: owner, id: id, dueBy: 100, next: 130))
            #expect(try await !store.resetBudget(of: owner, id: id, dueBy: 100, next: 130))
            let after: Limits? =
                switch owner {
                case .key: try await store.fetch(VirtualKey.self, id: id)?.limits
                case .team: try await store.fetch(Team.self, id: id)?.limits
                case .user: try await store.fetch(User.self, id: id)?.limits
                case .organization: try await store.fetch(Organization.self, id: id)?.limits
                case .endUser: try await store.fetch(EndUser.self, id: id)?.limits
                case .budget: try await store.fetch(Budget.self, id: id)?.limits
                }
            #expect(after?.spend == 0 && after?.budgetResetAt == 130)
            // The other owners keep their spend.
            #expect(try await store.fetch(VirtualKey.self, id: "k1")?.limits.spend == (owner == .key ? 0 : 0.5))
            #expect(try await store.fetch(Team.self, id: "t1")?.limits.spend == (owner == .team ? 0 : 0.5))
        }
    }

    @Test(arguments: StoreBackend.all)
    func teamsRoundTripCarrySpendAndTakeTheirKeysWithThem(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            var team = Team(teamID: "t1", createdAt: 1)
            team.members = [Team.Member(userID: "u1", role: "admin")]
            team.limits.models = ["gpt-4o-mini"]
            try await store.insert(team)
            #expect(try await store.fetch(Team.self, id: "t1") == team)
            try await store.insert(VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0))
            try await store.recordSpend([spendRow("r1", key: "k1", team: "t1", spend: 2)])
            #expect(try await store.fetch(Team.self, id: "t1")?.limits.spend == 2)
            #expect(try await store.delete(Team.self, ids: ["t1", "nope"]) == 1)
            #expect(try await store.fetch(VirtualKey.self, id: "k1") == nil)
            #expect(try await store.teams().isEmpty)
        }
    }

    @Test(arguments: StoreBackend.all)
    func usersCarrySpendAndTakeTheirKeysWithThem(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            var user = User(userID: "u1", createdAt: 1)
            user.userEmail = "ada@example.com"
            try await store.insert(user)
            #expect(try await store.fetch(User.self, id: "u1") == user)
            try await store.insert(VirtualKey(token: "k1", keyName: "sk-...k1", userID: "u1", createdAt: 0))
            var row = spendRow("r1", key: "k1", team: nil, spend: 3)
            row.userID = "u1"
            try await store.recordSpend([row])
            #expect(try await store.fetch(User.self, id: "u1")?.limits.spend == 3)
            #expect(try await store.keys(teamID: nil, userID: "u1", limit: 10, offset: 0).total == 1)
            #expect(try await store.users(limit: 10, offset: 0).total == 1)
            #expect(try await store.delete(User.self, ids: ["u1"]) == 1)
            #expect(try await store.fetch(VirtualKey.self, id: "k1") == nil)
        }
    }

    @Test(arguments: StoreBackend.all)
    func deletingAnOrganizationTakesItsTeamsAndTheirKeys(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            try await store.insert(Organization(organizationID: "o1", organizationAlias: "Acme", createdAt: 0))
            var team = Team(teamID: "t1", createdAt: 0)
            team.organizationID = "o1"
            try await store.insert(team)
            try await store.insert(Team(teamID: "t2", createdAt: 0))
            try await store.insert(VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0))
            try await store.insert(VirtualKey(token: "k2", keyName: "sk-...k2", teamID: "t2", createdAt: 0))
            var row = spendRow("r1", key: "k1", team: "t1", spend: 4)
            row.orgID = "o1"
            try await store.recordSpend([row])
            #expect(try await store.fetch(Organization.self, id: "o1")?.limits.spend == 4)
            #expect(try await store.delete(Organization.self, ids: ["o1"]) == 1)
            #expect(try await store.organizations().isEmpty)
            #expect(try await store.fetch(Team.self, id: "t1") == nil)
            #expect(try await store.fetch(Team.self, id: "t2") != nil)
            #expect(try await store.fetch(VirtualKey.self, id: "k1") == nil)
            #expect(try await store.fetch(VirtualKey.self, id: "k2") != nil)
        }
    }

    /// Opening a database again applies no migration and changes no table: the schema and the
    /// migration log are what the first open left.
    @Test func reopeningKeepsDataAndLeavesTheSchemaAsItWas() async throws {
        let path = temporaryDatabasePath()
        let first = try SQLiteStore(path: path)
        try await first.recordSpend([spendRow("x")])
        let before = try await StoreSchema.read(first)
        #expect(before.migrations == StoreSchema.migrationNames)
        let reopened = try SQLiteStore(path: path)
        #expect(try await StoreSchema.read(reopened) == before)
        #expect(try await reopened.spendLogs(SpendQuery()).map(\.requestID) == ["x"])
    }
}

/// What a database's schema is: its tables and indexes as SQLite keeps their SQL, and the
/// migrations recorded as applied.
struct StoreSchema: Equatable {
    var objects: [String]
    var migrations: [String]

    /// Every migration, oldest first, by the name recorded in `grdb_migrations`.
    static let migrationNames = [
        "v1: keys, spend logs, daily rollups", "v2: budget reset time on keys", "v3: teams", "v4: users",
        "v5: organizations", "v6: soft budget on keys", "v7: estimated usage on spend rows",
        "v8: evaluation run and item on spend rows, keys that may start evaluations",
        "v9: attempts, fallback depth, latencies, time to first token, tags and end user on spend rows",
        "v10: end users and budget tiers; budget ids on keys and organizations",
        "v11: LiteLLM key, user, team and organization fields",
        "v12: models added through the admin API",
        "v13: Responses API answers",
    ]

    static func read(_ store: SQLiteStore) async throws -> StoreSchema {
        try await store.pool.read { db in try read(db) }
    }

    static func read(_ db: Database) throws -> StoreSchema {
        StoreSchema(
            objects: try String.fetchAll(
                db, sql: "SELECT type || ' ' || name || ': ' || IFNULL(sql, '') FROM sqlite_master ORDER BY type, name"),
            migrations: try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid"))
    }
}
