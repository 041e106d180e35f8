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

    /// Versioned schema: migrations are append-only, and each runs the SQL it ran when it was
    /// released, spelled out rather than built from the record types, so that changing a record
    /// can never change what an old migration does.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in migrations {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    static let migrations: [(name: String, sql: String)] = [
        (
            "v1: keys, spend logs, daily rollups",
            // Empty strings rather than NULL in daily_spend's key columns, so the primary key groups them.
            """
            CREATE TABLE "keys" ("token" TEXT PRIMARY KEY NOT NULL, "key_name" TEXT NOT NULL, "key_alias" TEXT, \
            "team_id" TEXT, "user_id" TEXT, "models" TEXT NOT NULL, "aliases" TEXT NOT NULL, "max_budget" DOUBLE, \
            "budget_duration" TEXT, "spend" DOUBLE NOT NULL DEFAULT 0, "tpm_limit" INTEGER, "rpm_limit" INTEGER, \
            "max_parallel_requests" INTEGER, "metadata" TEXT NOT NULL, "expires_at" DOUBLE, \
            "blocked" BOOLEAN NOT NULL DEFAULT 0, "created_at" DOUBLE NOT NULL);
            CREATE INDEX "keys_on_key_alias" ON "keys"("key_alias");
            CREATE INDEX "keys_on_team_id" ON "keys"("team_id");
            CREATE INDEX "keys_on_user_id" ON "keys"("user_id");
            CREATE TABLE "spend_logs" ("request_id" TEXT PRIMARY KEY NOT NULL, "trace_id" TEXT NOT NULL, \
            "start_time" INTEGER NOT NULL, "end_time" INTEGER NOT NULL, "key_hash" TEXT, "key_alias" TEXT, \
            "team_id" TEXT, "user_id" TEXT, "org_id" TEXT, "operation" TEXT NOT NULL, "model" TEXT, \
            "model_group" TEXT, "deployment_id" TEXT, "provider" TEXT, "input_tokens" INTEGER NOT NULL, \
            "output_tokens" INTEGER NOT NULL, "cache_read_tokens" INTEGER NOT NULL, \
            "cache_creation_tokens" INTEGER NOT NULL, "reasoning_tokens" INTEGER NOT NULL, "spend" DOUBLE NOT NULL, \
            "status_code" INTEGER NOT NULL, "error_type" TEXT);
            CREATE INDEX "spend_logs_on_start_time" ON "spend_logs"("start_time");
            CREATE INDEX "spend_logs_on_key_hash" ON "spend_logs"("key_hash");
            CREATE INDEX "spend_logs_on_team_id" ON "spend_logs"("team_id");
            CREATE TABLE "daily_spend" ("day" TEXT NOT NULL, "key_hash" TEXT NOT NULL, "team_id" TEXT NOT NULL, \
            "model_group" TEXT NOT NULL, "provider" TEXT NOT NULL, "requests" INTEGER NOT NULL, \
            "input_tokens" INTEGER NOT NULL, "output_tokens" INTEGER NOT NULL, "spend" DOUBLE NOT NULL, \
            PRIMARY KEY ("day", "key_hash", "team_id", "model_group", "provider"));
            """
        ),
        ("v2: budget reset time on keys", #"ALTER TABLE "keys" ADD COLUMN "budget_reset_at" DOUBLE;"#),
        (
            "v3: teams",
            """
            CREATE TABLE "teams" ("team_id" TEXT PRIMARY KEY NOT NULL, "team_alias" TEXT, "organization_id" TEXT, \
            "models" TEXT NOT NULL, "max_budget" DOUBLE, "budget_duration" TEXT, "budget_reset_at" DOUBLE, \
            "spend" DOUBLE NOT NULL DEFAULT 0, "tpm_limit" INTEGER, "rpm_limit" INTEGER, \
            "max_parallel_requests" INTEGER, "metadata" TEXT NOT NULL, "blocked" BOOLEAN NOT NULL DEFAULT 0, \
            "members" TEXT NOT NULL, "created_at" DOUBLE NOT NULL);
            """
        ),
        (
            "v4: users",
            """
            CREATE TABLE "users" ("user_id" TEXT PRIMARY KEY NOT NULL, "user_alias" TEXT, "user_email" TEXT, \
            "user_role" TEXT NOT NULL, "models" TEXT NOT NULL, "max_budget" DOUBLE, "budget_duration" TEXT, \
            "budget_reset_at" DOUBLE, "spend" DOUBLE NOT NULL DEFAULT 0, "tpm_limit" INTEGER, "rpm_limit" INTEGER, \
            "max_parallel_requests" INTEGER, "metadata" TEXT NOT NULL, "created_at" DOUBLE NOT NULL);
            """
        ),
        (
            "v5: organizations",
            """
            CREATE TABLE "organizations" ("organization_id" TEXT PRIMARY KEY NOT NULL, \
            "organization_alias" TEXT NOT NULL, "models" TEXT NOT NULL, "max_budget" DOUBLE, "budget_duration" TEXT, \
            "budget_reset_at" DOUBLE, "spend" DOUBLE NOT NULL DEFAULT 0, "tpm_limit" INTEGER, "rpm_limit" INTEGER, \
            "max_parallel_requests" INTEGER, "metadata" TEXT NOT NULL, "created_at" DOUBLE NOT NULL);
            """
        ),
        ("v6: soft budget on keys", #"ALTER TABLE "keys" ADD COLUMN "soft_budget" DOUBLE;"#),
        (
            "v7: estimated usage on spend rows",
            #"ALTER TABLE "spend_logs" ADD COLUMN "usage_estimated" BOOLEAN NOT NULL DEFAULT 0;"#
        ),
        (
            "v8: evaluation run and item on spend rows, keys that may start evaluations",
            """
            ALTER TABLE "keys" ADD COLUMN "allow_evaluations" BOOLEAN NOT NULL DEFAULT 0;
            ALTER TABLE "spend_logs" ADD COLUMN "eval_run_id" TEXT;
            ALTER TABLE "spend_logs" ADD COLUMN "eval_item_id" TEXT;
            CREATE INDEX "spend_logs_on_eval_run_id" ON "spend_logs"("eval_run_id") WHERE "eval_run_id" IS NOT NULL;
            """
        ),
        (
            "v9: attempts, fallback depth, latencies, time to first token, tags and end user on spend rows",
            // Nullable: rows written before this migration did not measure them.
            """
            ALTER TABLE "spend_logs" ADD COLUMN "attempts" INTEGER;
            ALTER TABLE "spend_logs" ADD COLUMN "fallback_depth" INTEGER;
            ALTER TABLE "spend_logs" ADD COLUMN "latency_ms" DOUBLE;
            ALTER TABLE "spend_logs" ADD COLUMN "upstream_latency_ms" DOUBLE;
            ALTER TABLE "spend_logs" ADD COLUMN "overhead_ms" DOUBLE;
            ALTER TABLE "spend_logs" ADD COLUMN "time_to_first_token_ms" DOUBLE;
            ALTER TABLE "spend_logs" ADD COLUMN "tags" TEXT;
            ALTER TABLE "spend_logs" ADD COLUMN "end_user" TEXT;
            """
        ),
        (
            "v10: end users and budget tiers; budget ids on keys and organizations",
            // Defaults on end_users: a request's cost makes the row of an end user not seen before.
            """
            CREATE TABLE "budgets" ("budget_id" TEXT PRIMARY KEY NOT NULL, "models" TEXT NOT NULL DEFAULT '[]', \
            "max_budget" DOUBLE, "soft_budget" DOUBLE, "budget_duration" TEXT, "budget_reset_at" DOUBLE, \
            "spend" DOUBLE NOT NULL DEFAULT 0, "tpm_limit" INTEGER, "rpm_limit" INTEGER, \
            "max_parallel_requests" INTEGER, "tpd_limit" INTEGER, "model_max_budget" TEXT, \
            "metadata" TEXT NOT NULL DEFAULT '{}', "created_at" DOUBLE NOT NULL, "updated_at" DOUBLE NOT NULL);
            CREATE TABLE "end_users" ("user_id" TEXT PRIMARY KEY NOT NULL, "alias" TEXT, \
            "blocked" BOOLEAN NOT NULL DEFAULT 0, "allowed_model_region" TEXT, "default_model" TEXT, "budget_id" TEXT, \
            "models" TEXT NOT NULL DEFAULT '[]', "max_budget" DOUBLE, "budget_duration" TEXT, "budget_reset_at" DOUBLE, \
            "spend" DOUBLE NOT NULL DEFAULT 0, "tpm_limit" INTEGER, "rpm_limit" INTEGER, \
            "max_parallel_requests" INTEGER, "metadata" TEXT NOT NULL DEFAULT '{}', "created_at" DOUBLE NOT NULL);
            CREATE INDEX "end_users_on_budget_id" ON "end_users"("budget_id");
            ALTER TABLE "keys" ADD COLUMN "budget_id" TEXT;
            ALTER TABLE "organizations" ADD COLUMN "budget_id" TEXT;
            """
        ),
        (
            "v11: LiteLLM key, user, team and organization fields",
            // `litellm_fields`: LiteLLM's fields kept and shown back without effect, one JSON object per record.
            """
            ALTER TABLE "keys" ADD COLUMN "organization_id" TEXT;
            ALTER TABLE "keys" ADD COLUMN "tags" TEXT NOT NULL DEFAULT '[]';
            ALTER TABLE "keys" ADD COLUMN "allowed_routes" TEXT NOT NULL DEFAULT '[]';
            ALTER TABLE "keys" ADD COLUMN "temp_budget_increase" DOUBLE;
            ALTER TABLE "keys" ADD COLUMN "temp_budget_expiry" DOUBLE;
            ALTER TABLE "keys" ADD COLUMN "updated_at" DOUBLE;
            ALTER TABLE "keys" ADD COLUMN "litellm_fields" TEXT NOT NULL DEFAULT '{}';
            CREATE INDEX "keys_on_organization_id" ON "keys"("organization_id");
            ALTER TABLE "users" ADD COLUMN "litellm_fields" TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "teams" ADD COLUMN "litellm_fields" TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "teams" ADD COLUMN "model_aliases" TEXT NOT NULL DEFAULT '{}';
            ALTER TABLE "organizations" ADD COLUMN "litellm_fields" TEXT NOT NULL DEFAULT '{}';
            """
        ),
        (
            "v12: models added through the admin API",
            // One row per `/model/new`; the JSON columns are LiteLLM's `litellm_params` and `model_info`.
            """
            CREATE TABLE "models" (
                "model_id" TEXT PRIMARY KEY NOT NULL,
                "model_name" TEXT NOT NULL,
                "litellm_params" TEXT NOT NULL,
                "model_info" TEXT NOT NULL,
                "created_at" DOUBLE NOT NULL,
                "updated_at" DOUBLE NOT NULL
            );
            """
        ),
        (
            "v13: Responses API answers",
            // One row per stored `/v1/responses` answer; `body` is JSON the store does not read.
            """
            CREATE TABLE "responses" (
                "id" TEXT PRIMARY KEY NOT NULL,
                "owner" TEXT NOT NULL,
                "body" TEXT NOT NULL,
                "created_at" DOUBLE NOT NULL,
                "expires_at" DOUBLE NOT NULL
            );
            CREATE INDEX "responses_on_expires_at" ON "responses"("expires_at");
            """
        ),
    ]

    public func insert<Record: LimitedRecord>(_ record: Record) async throws {
        try await pool.write { db in try record.insert(db) }
    }

    public func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        try await pool.read { db in try Record.fetchOne(db, key: id) }
    }

    public func update<Record: LimitedRecord>(_ record: Record) async throws {
        try await pool.write { db in try record.update(db) }
    }

    public func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        try await pool.write { db in
            switch Record.owner {
            case .key, .endUser: break
            // Records linked to a deleted tier lose the link (LiteLLM's optional relation: SET NULL).
            case .budget:
                for table in ["keys", "organizations", "end_users"] {
                    try db.execute(
                        sql: "UPDATE \(table) SET budget_id = NULL WHERE budget_id IN (SELECT value FROM json_each(?))",
                        arguments: [Self.jsonArray(ids)])
                }
            case .user: try VirtualKey.filter(ids.contains(Column("user_id"))).deleteAll(db)
            case .team: try VirtualKey.filter(ids.contains(Column("team_id"))).deleteAll(db)
            case .organization:
                let teams = try String.fetchAll(
                    db, Team.select(Column("team_id")).filter(ids.contains(Column("organization_id"))))
                try VirtualKey.filter(teams.contains(Column("team_id"))).deleteAll(db)
                try Team.deleteAll(db, keys: teams)
            }
            return try Record.deleteAll(db, keys: ids)
        }
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

    public func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        try await pool.read { db in
            let total = try User.fetchCount(db)
            return (try User.order(Column("created_at"), Column("user_id")).limit(limit, offset: offset).fetchAll(db), total)
        }
    }

    public func teams() async throws -> [Team] {
        try await pool.read { db in try Team.order(Column("created_at"), Column("team_id")).fetchAll(db) }
    }

    public func organizations() async throws -> [Organization] {
        try await pool.read { db in try Organization.order(Column("created_at"), Column("organization_id")).fetchAll(db) }
    }

    public func all<Record: LimitedRecord>(_ type: Record.Type) async throws -> [Record] {
        try await pool.read { db in try Record.order(Column("created_at"), Column(Record.owner.table.key)).fetchAll(db) }
    }

    public func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        let table = owner.table
        return try await pool.write { db in
            try db.execute(
                // A record without a reset time of its own (one on its tier's period) has its
                // period started, its spend kept; only a period that ended zeroes the spend.
                sql: """
                    UPDATE \(table.name) SET spend = CASE WHEN budget_reset_at IS NULL THEN spend ELSE 0 END,
                      budget_reset_at = ?
                    WHERE \(table.key) = ? AND (budget_reset_at IS NULL OR budget_reset_at <= ?)
                    """,
                arguments: [next, id, now])
            return db.changesCount > 0
        }
    }

    public func recordSpend(_ rows: [SpendRow]) async throws {
        guard !rows.isEmpty else { return }
        try await pool.write { db in
            // Cached statements: this runs for every answered request, so SQL is compiled once.
            var addSpend: [BudgetOwner: Statement] = [:]
            for owner in BudgetOwner.allCases where owner != .endUser && owner != .budget {
                let table = owner.table
                addSpend[owner] = try db.cachedStatement(sql: "UPDATE \(table.name) SET spend = spend + ? WHERE \(table.key) = ?")
            }
            // An end user not seen before gets a row, as LiteLLM's spend tracking makes one.
            let chargeEndUser = try db.cachedStatement(
                sql: """
                    INSERT INTO end_users (user_id, spend, created_at) VALUES (?, ?, ?)
                    ON CONFLICT (user_id) DO UPDATE SET spend = spend + excluded.spend
                    """)
            // Spelled out rather than through the record's Codable conformance, which converts
            // every column name to snake case for every row.
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO spend_logs (request_id, trace_id, start_time, end_time, key_hash, key_alias,
                      team_id, user_id, org_id, operation, model, model_group, deployment_id, provider, input_tokens,
                      output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, spend, status_code,
                      error_type, usage_estimated, eval_run_id, eval_item_id, attempts, fallback_depth, latency_ms,
                      upstream_latency_ms, overhead_ms, time_to_first_token_ms, tags, end_user)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let rollUp = try db.cachedStatement(
                sql: """
                    INSERT INTO daily_spend (day, key_hash, team_id, model_group, provider, requests, input_tokens, output_tokens, spend)
                    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)
                    ON CONFLICT (day, key_hash, team_id, model_group, provider) DO UPDATE SET
                      requests = requests + 1, input_tokens = input_tokens + excluded.input_tokens,
                      output_tokens = output_tokens + excluded.output_tokens, spend = spend + excluded.spend
                    """)
            for row in rows {
                try insert.execute(arguments: [
                    row.requestID, row.traceID, row.startTime, row.endTime, row.keyHash, row.keyAlias, row.teamID,
                    row.userID, row.orgID, row.operation, row.model, row.modelGroup, row.deploymentID, row.provider,
                    row.inputTokens, row.outputTokens, row.cacheReadTokens, row.cacheCreationTokens, row.reasoningTokens,
                    row.spend, row.statusCode, row.errorType, row.usageEstimated, row.evalRunID, row.evalItemID,
                    row.attempts, row.fallbackDepth, Self.finite(row.latencyMs), Self.finite(row.upstreamLatencyMs),
                    Self.finite(row.overheadMs), Self.finite(row.timeToFirstTokenMs), row.tags.map(Self.jsonArray),
                    row.endUser,
                ])
                guard db.changesCount > 0 else { continue }
                if row.spend > 0 {
                    for (owner, id) in row.budgetOwners {
                        if owner == .endUser {
                            try chargeEndUser.execute(arguments: [id, row.spend, Double(row.endTime) / 1000])
                        } else {
                            try addSpend[owner]?.execute(arguments: [row.spend, id])
                        }
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
        let expression = grouping.sqlExpression(day: "date(start_time / 1000, 'unixepoch')")
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

    public func teamMemberSpend(teamID: String) async throws -> [String: Double] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT user_id, SUM(spend) AS spend FROM spend_logs WHERE team_id = ? AND user_id IS NOT NULL GROUP BY user_id",
                arguments: [teamID])
            return Dictionary(rows.map { ($0["user_id"], $0["spend"]) }) { first, _ in first }
        }
    }

    /// `YYYY-MM-DD` in UTC.
    static func day(ofMillis millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(parts.tm_year + 1900, 4) + "-" + padded(parts.tm_mon + 1, 2) + "-" + padded(parts.tm_mday, 2)
    }
}
