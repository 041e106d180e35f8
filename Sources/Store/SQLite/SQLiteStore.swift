import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode. A commit is in the WAL (and so survives a
/// `kill -9` of the gateway) when it returns; `synchronous=NORMAL` trades only power-loss
/// durability of the last commits for not syncing on every one.
public final class SQLiteStore: GatewayStore {
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// Versioned schema: migrations are append-only, never edited once released.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: keys, spend logs, daily rollups") { db in
            try db.create(table: "keys") { t in
                t.primaryKey("token", .text)
                t.column("key_name", .text).notNull()
                t.column("key_alias", .text).indexed()
                t.column("team_id", .text).indexed()
                t.column("user_id", .text).indexed()
                t.column("models", .text).notNull()
                t.column("aliases", .text).notNull()
                t.column("max_budget", .double)
                t.column("budget_duration", .text)
                t.column("spend", .double).notNull().defaults(to: 0)
                t.column("tpm_limit", .integer)
                t.column("rpm_limit", .integer)
                t.column("max_parallel_requests", .integer)
                t.column("metadata", .text).notNull()
                t.column("expires_at", .double)
                t.column("blocked", .boolean).notNull().defaults(to: false)
                t.column("created_at", .double).notNull()
            }
            try db.create(table: "spend_logs") { t in
                t.primaryKey("request_id", .text)
                t.column("trace_id", .text).notNull()
                t.column("start_time", .integer).notNull().indexed()
                t.column("end_time", .integer).notNull()
                t.column("key_hash", .text).indexed()
                t.column("key_alias", .text)
                t.column("team_id", .text).indexed()
                t.column("user_id", .text)
                t.column("org_id", .text)
                t.column("operation", .text).notNull()
                t.column("model", .text)
                t.column("model_group", .text)
                t.column("deployment_id", .text)
                t.column("provider", .text)
                t.column("input_tokens", .integer).notNull()
                t.column("output_tokens", .integer).notNull()
                t.column("cache_read_tokens", .integer).notNull()
                t.column("cache_creation_tokens", .integer).notNull()
                t.column("reasoning_tokens", .integer).notNull()
                t.column("spend", .double).notNull()
                t.column("status_code", .integer).notNull()
                t.column("error_type", .text)
            }
            // Empty strings rather than NULL in the key columns, so the primary key groups them.
            try db.create(table: "daily_spend") { t in
                t.column("day", .text).notNull()
                t.column("key_hash", .text).notNull()
                t.column("team_id", .text).notNull()
                t.column("model_group", .text).notNull()
                t.column("provider", .text).notNull()
                t.column("requests", .integer).notNull()
                t.column("input_tokens", .integer).notNull()
                t.column("output_tokens", .integer).notNull()
                t.column("spend", .double).notNull()
                t.primaryKey(["day", "key_hash", "team_id", "model_group", "provider"])
            }
        }
        migrator.registerMigration("v2: budget reset time on keys") { db in
            try db.alter(table: "keys") { t in t.add(column: "budget_reset_at", .double) }
        }
        migrator.registerMigration("v3: teams") { db in
            try db.create(table: "teams") { t in
                t.primaryKey("team_id", .text)
                t.column("team_alias", .text)
                t.column("organization_id", .text)
                t.column("models", .text).notNull()
                t.column("max_budget", .double)
                t.column("budget_duration", .text)
                t.column("budget_reset_at", .double)
                t.column("spend", .double).notNull().defaults(to: 0)
                t.column("tpm_limit", .integer)
                t.column("rpm_limit", .integer)
                t.column("max_parallel_requests", .integer)
                t.column("metadata", .text).notNull()
                t.column("blocked", .boolean).notNull().defaults(to: false)
                t.column("members", .text).notNull()
                t.column("created_at", .double).notNull()
            }
        }
        migrator.registerMigration("v4: users") { db in
            try db.create(table: "users") { t in
                t.primaryKey("user_id", .text)
                t.column("user_alias", .text)
                t.column("user_email", .text)
                t.column("user_role", .text).notNull()
                t.column("models", .text).notNull()
                t.column("max_budget", .double)
                t.column("budget_duration", .text)
                t.column("budget_reset_at", .double)
                t.column("spend", .double).notNull().defaults(to: 0)
                t.column("tpm_limit", .integer)
                t.column("rpm_limit", .integer)
                t.column("max_parallel_requests", .integer)
                t.column("metadata", .text).notNull()
                t.column("created_at", .double).notNull()
            }
        }
        migrator.registerMigration("v5: organizations") { db in
            try db.create(table: "organizations") { t in
                t.primaryKey("organization_id", .text)
                t.column("organization_alias", .text).notNull()
                t.column("models", .text).notNull()
                t.column("max_budget", .double)
                t.column("budget_duration", .text)
                t.column("budget_reset_at", .double)
                t.column("spend", .double).notNull().defaults(to: 0)
                t.column("tpm_limit", .integer)
                t.column("rpm_limit", .integer)
                t.column("max_parallel_requests", .integer)
                t.column("metadata", .text).notNull()
                t.column("created_at", .double).notNull()
            }
        }
        migrator.registerMigration("v6: soft budget on keys") { db in
            try db.alter(table: "keys") { t in t.add(column: "soft_budget", .double) }
        }
        migrator.registerMigration("v7: estimated usage on spend rows") { db in
            try db.alter(table: "spend_logs") { t in t.add(column: "usage_estimated", .boolean).notNull().defaults(to: false) }
        }
        return migrator
    }

    public func insertOrganization(_ organization: Organization) async throws {
        try await pool.write { db in try organization.insert(db) }
    }

    public func organization(id: String) async throws -> Organization? {
        try await pool.read { db in try Organization.fetchOne(db, key: id) }
    }

    public func updateOrganization(_ organization: Organization) async throws {
        try await pool.write { db in try organization.update(db) }
    }

    public func deleteOrganizations(ids: [String]) async throws -> Int {
        try await pool.write { db in
            let teams = try String.fetchAll(
                db, Team.select(Column("team_id")).filter(ids.contains(Column("organization_id"))))
            try VirtualKey.filter(teams.contains(Column("team_id"))).deleteAll(db)
            try Team.deleteAll(db, keys: teams)
            return try Organization.deleteAll(db, keys: ids)
        }
    }

    public func organizations() async throws -> [Organization] {
        try await pool.read { db in try Organization.order(Column("created_at"), Column("organization_id")).fetchAll(db) }
    }

    public func insertUser(_ user: User) async throws {
        try await pool.write { db in try user.insert(db) }
    }

    public func user(id: String) async throws -> User? {
        try await pool.read { db in try User.fetchOne(db, key: id) }
    }

    public func updateUser(_ user: User) async throws {
        try await pool.write { db in try user.update(db) }
    }

    public func deleteUsers(ids: [String]) async throws -> Int {
        try await pool.write { db in
            try VirtualKey.filter(ids.contains(Column("user_id"))).deleteAll(db)
            return try User.deleteAll(db, keys: ids)
        }
    }

    public func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        try await pool.read { db in
            let total = try User.fetchCount(db)
            return (try User.order(Column("created_at"), Column("user_id")).limit(limit, offset: offset).fetchAll(db), total)
        }
    }

    public func insertTeam(_ team: Team) async throws {
        try await pool.write { db in try team.insert(db) }
    }

    public func team(id: String) async throws -> Team? {
        try await pool.read { db in try Team.fetchOne(db, key: id) }
    }

    public func updateTeam(_ team: Team) async throws {
        try await pool.write { db in try team.update(db) }
    }

    public func deleteTeams(ids: [String]) async throws -> Int {
        try await pool.write { db in
            try VirtualKey.filter(ids.contains(Column("team_id"))).deleteAll(db)
            return try Team.deleteAll(db, keys: ids)
        }
    }

    public func teams() async throws -> [Team] {
        try await pool.read { db in try Team.order(Column("created_at"), Column("team_id")).fetchAll(db) }
    }

    public func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        // Table and column come from the closed BudgetOwner list, never from input.
        let (table, column) =
            switch owner {
            case .key: ("keys", "token")
            case .team: ("teams", "team_id")
            case .user: ("users", "user_id")
            case .organization: ("organizations", "organization_id")
            }
        return try await pool.write { db in
            try db.execute(
                sql: "UPDATE \(table) SET spend = 0, budget_reset_at = ? WHERE \(column) = ? AND budget_reset_at <= ?",
                arguments: [next, id, now])
            return db.changesCount > 0
        }
    }

    public func insertKey(_ key: VirtualKey) async throws {
        try await pool.write { db in try key.insert(db) }
    }

    public func key(token: String) async throws -> VirtualKey? {
        try await pool.read { db in try VirtualKey.fetchOne(db, key: token) }
    }

    public func updateKey(_ key: VirtualKey) async throws {
        try await pool.write { db in try key.update(db) }
    }

    public func deleteKeys(tokens: [String]) async throws -> Int {
        try await pool.write { db in try VirtualKey.deleteAll(db, keys: tokens) }
    }

    public func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        try await pool.read { db in
            var request = VirtualKey.all()
            if let teamID { request = request.filter(Column("team_id") == teamID) }
            if let userID { request = request.filter(Column("user_id") == userID) }
            let total = try request.fetchCount(db)
            let keys = try request.order(Column("created_at"), Column("token")).limit(limit, offset: offset).fetchAll(db)
            return (keys, total)
        }
    }

    public func recordSpend(_ rows: [SpendRow]) async throws {
        guard !rows.isEmpty else { return }
        try await pool.write { db in
            // Cached statements: this runs for every answered request, so SQL is compiled once.
            let addSpend = [
                "keys": try db.cachedStatement(sql: "UPDATE keys SET spend = spend + ? WHERE token = ?"),
                "teams": try db.cachedStatement(sql: "UPDATE teams SET spend = spend + ? WHERE team_id = ?"),
                "users": try db.cachedStatement(sql: "UPDATE users SET spend = spend + ? WHERE user_id = ?"),
                "organizations": try db.cachedStatement(
                    sql: "UPDATE organizations SET spend = spend + ? WHERE organization_id = ?"),
            ]
            let rollUp = try db.cachedStatement(
                sql: """
                    INSERT INTO daily_spend (day, key_hash, team_id, model_group, provider, requests, input_tokens, output_tokens, spend)
                    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
                    ON CONFLICT (day, key_hash, team_id, model_group, provider) DO UPDATE SET
                      requests = requests + 1, input_tokens = input_tokens + excluded.input_tokens,
                      output_tokens = output_tokens + excluded.output_tokens, spend = spend + excluded.spend
                    """)
            for row in rows {
                try row.insert(db, onConflict: .ignore)
                guard db.changesCount > 0 else { continue }
                if row.spend > 0 {
                    let owners = [("keys", row.keyHash), ("teams", row.teamID), ("users", row.userID), ("organizations", row.orgID)]
                    for (table, id) in owners {
                        if let id, let statement = addSpend[table] { try statement.execute(arguments: [row.spend, id]) }
                    }
                }
                try rollUp.execute(arguments: [
                    Self.day(ofMillis: row.startTime), row.keyHash ?? "", row.teamID ?? "", row.modelGroup ?? "",
                    row.provider ?? "", row.inputTokens, row.outputTokens, row.spend,
                ])
            }
        }
    }

    public func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] {
        try await pool.read { db in
            var request = SpendRow.all()
            if let v = query.keyHash { request = request.filter(Column("key_hash") == v) }
            if let v = query.teamID { request = request.filter(Column("team_id") == v) }
            if let v = query.userID { request = request.filter(Column("user_id") == v) }
            if let v = query.modelGroup { request = request.filter(Column("model_group") == v) }
            if let v = query.since { request = request.filter(Column("start_time") >= v) }
            if let v = query.until { request = request.filter(Column("start_time") < v) }
            return try request.order(Column("start_time").desc, Column("request_id"))
                .limit(query.limit, offset: query.offset).fetchAll(db)
        }
    }

    public func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        // The grouping expression comes from this closed list, never from the caller's text.
        let expression =
            switch grouping {
            case .team: "COALESCE(team_id, '')"
            case .key: "COALESCE(key_alias, key_hash, '')"
            case .user: "COALESCE(user_id, '')"
            case .model: "COALESCE(model_group, '')"
            case .provider: "COALESCE(provider, '')"
            case .day: "date(start_time / 1000, 'unixepoch')"
            }
        return try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(expression) AS grp, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens,
                           SUM(output_tokens) AS output_tokens, SUM(spend) AS spend
                    FROM spend_logs WHERE start_time >= ? AND start_time < ?
                    GROUP BY grp ORDER BY spend DESC, grp
                    """,
                arguments: [since ?? Int64.min, until ?? Int64.max])
            return rows.map { row in
                SpendTotal(
                    group: row["grp"], requests: row["requests"], inputTokens: row["input_tokens"],
                    outputTokens: row["output_tokens"], spend: row["spend"])
            }
        }
    }

    /// `YYYY-MM-DD` in UTC.
    static func day(ofMillis millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }
}
