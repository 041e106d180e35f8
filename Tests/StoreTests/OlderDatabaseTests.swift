import Foundation
import GRDB
import Testing

@testable import Store

/// Databases written by earlier versions of the gateway, built here from the SQL each released
/// migration ran (frozen text, not the migrator: an edited old migration must fail these tests),
/// with rows in them, then opened by the current `SQLiteStore`.
@Suite struct OlderDatabaseTests {
    /// Each released migration: the name `grdb_migrations` records and the SQL it ran.
    static let releasedMigrations: [(name: String, sql: String)] = [
        (
            "v1: keys, spend logs, daily rollups",
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

    /// Rows as the version that made each table wrote them (JSON columns as GRDB encoded them).
    static let rowsAdded: [Int: String] = [
        1: """
        INSERT INTO keys (token, key_name, key_alias, team_id, user_id, models, aliases, max_budget, budget_duration,
            spend, tpm_limit, rpm_limit, max_parallel_requests, metadata, expires_at, blocked, created_at)
        VALUES ('tok-old', 'sk-...old1', 'legacy', 't-old', 'u-old', '["gpt-4o-mini","claude"]',
            '{"gpt-4":"gpt-4o-mini"}', 10.0, '30d', 1.5, 1000, 60, 2, '{"env":"prod"}', 99999999.0, 0, 1000.0);
        INSERT INTO spend_logs (request_id, trace_id, start_time, end_time, key_hash, key_alias, team_id, user_id,
            org_id, operation, model, model_group, deployment_id, provider, input_tokens, output_tokens,
            cache_read_tokens, cache_creation_tokens, reasoning_tokens, spend, status_code, error_type)
        VALUES ('req-old', 'trace-old', 1700000000000, 1700000000120, 'tok-old', 'legacy', 't-old', 'u-old',
            'o-old', 'chat', 'gpt-4o-mini-2024', 'gpt-4o-mini', 'dep-1', 'openai', 10, 5, 1, 0, 0, 1.5, 200, NULL);
        INSERT INTO daily_spend VALUES ('2023-11-14', 'tok-old', 't-old', 'gpt-4o-mini', 'openai', 1, 10, 5, 1.5);
        """,
        2: "UPDATE keys SET budget_reset_at = 5000 WHERE token = 'tok-old';",
        3: """
        INSERT INTO teams VALUES ('t-old', 'Old team', 'o-old', '["gpt-4o-mini"]', 20.0, '7d', 6000.0, 1.5, NULL,
            100, NULL, '{"default_sinks":false}', 0, '[{"role":"admin","user_id":"u-old"}]', 900.0);
        """,
        4: """
        INSERT INTO users VALUES ('u-old', 'Ada', 'ada@example.com', 'proxy_admin', '[]', 5.0, NULL, NULL, 1.5,
            NULL, NULL, 1, '{}', 800.0);
        """,
        5: "INSERT INTO organizations VALUES ('o-old', 'Acme', '[]', 100.0, NULL, NULL, 1.5, NULL, NULL, NULL, '{}', 700.0);",
        6: "UPDATE keys SET soft_budget = 8 WHERE token = 'tok-old';",
        8: "UPDATE spend_logs SET eval_run_id = 'run-old', eval_item_id = 'item-old' WHERE request_id = 'req-old';",
    ]

    /// A database as version `version` of the schema left it, with rows.
    static func database(atVersion version: Int) throws -> String {
        let path = temporaryDatabasePath()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for (index, migration) in releasedMigrations.prefix(version).enumerated() {
                try db.execute(sql: migration.sql)
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES (?)", arguments: [migration.name])
                if let rows = rowsAdded[index + 1] { try db.execute(sql: rows) }
            }
        }
        try queue.close()
        return path
    }

    /// The frozen SQL is what the migrations really ran: all of it gives a new store's schema.
    @Test func theFrozenMigrationsMatchANewDatabase() async throws {
        let fresh = try await StoreSchema.read(try SQLiteStore(path: temporaryDatabasePath()))
        let path = try Self.database(atVersion: Self.releasedMigrations.count)
        let frozen = try await DatabaseQueue(path: path).read { db in try StoreSchema.read(db) }
        #expect(frozen == fresh)
        #expect(fresh.migrations == StoreSchema.migrationNames)
    }

    @Test(arguments: 1..<9)
    func anOlderDatabaseOpensWithItsRowsAndWorks(version: Int) async throws {
        let path = try Self.database(atVersion: version)
        let store = try SQLiteStore(path: path)

        // Migrated to the current schema, exactly as a new database is.
        let fresh = try await StoreSchema.read(try SQLiteStore(path: temporaryDatabasePath()))
        #expect(try await StoreSchema.read(store) == fresh)

        // The old rows read back, with the defaults of columns added after them.
        let key = try #require(try await store.fetch(VirtualKey.self, id: "tok-old"))
        #expect(key.keyName == "sk-...old1" && key.keyAlias == "legacy" && key.teamID == "t-old" && key.userID == "u-old")
        #expect(key.aliases == ["gpt-4": "gpt-4o-mini"] && key.metadata == #"{"env":"prod"}"#)
        #expect(key.expiresAt == 99_999_999 && !key.blocked && key.createdAt == 1000)
        #expect(
            key.limits
                == Limits(
                    models: ["gpt-4o-mini", "claude"], maxBudget: 10, budgetDuration: "30d",
                    budgetResetAt: version >= 2 ? 5000 : nil, spend: 1.5, tpmLimit: 1000, rpmLimit: 60,
                    maxParallelRequests: 2))
        #expect(key.softBudget == (version >= 6 ? 8 : nil))
        let logs = try await store.spendLogs(SpendQuery())
        #expect(logs.count == 1)
        let old = try #require(logs.first)
        #expect(old.requestID == "req-old" && old.orgID == "o-old" && old.cacheReadTokens == 1 && old.spend == 1.5)
        #expect(!old.usageEstimated)
        if version >= 3 {
            let team = try #require(try await store.fetch(Team.self, id: "t-old"))
            #expect(
                team.teamAlias == "Old team" && team.organizationID == "o-old" && team.metadata == #"{"default_sinks":false}"#)
            #expect(team.members == [Team.Member(userID: "u-old", role: "admin")] && !team.blocked)
            #expect(
                team.limits
                    == Limits(
                        models: ["gpt-4o-mini"], maxBudget: 20, budgetDuration: "7d", budgetResetAt: 6000, spend: 1.5,
                        rpmLimit: 100))
        }
        if version >= 4 {
            let user = try #require(try await store.fetch(User.self, id: "u-old"))
            #expect(user.userEmail == "ada@example.com" && user.userRole == "proxy_admin")
            #expect(user.limits == Limits(maxBudget: 5, spend: 1.5, maxParallelRequests: 1))
        }
        if version >= 5 {
            let organization = try #require(try await store.fetch(Organization.self, id: "o-old"))
            #expect(organization.organizationAlias == "Acme" && organization.limits == Limits(maxBudget: 100, spend: 1.5))
        }

        // What the current version does works on them: records the tables did not have yet,
        // spend charged to every owner, the rollup continued, budgets reset.
        if version < 3 { try await store.insert(Team(teamID: "t-old", createdAt: 0)) }
        if version < 4 { try await store.insert(User(userID: "u-old", createdAt: 0)) }
        if version < 5 { try await store.insert(Organization(organizationID: "o-old", organizationAlias: "Acme", createdAt: 0)) }
        var row = spendRow("req-new", key: "tok-old", team: "t-old", spend: 0.5, at: 1_700_000_000_500)
        row.userID = "u-old"
        row.orgID = "o-old"
        row.usageEstimated = true
        try await store.recordSpend([row])
        #expect(try await store.fetch(VirtualKey.self, id: "tok-old")?.limits.spend == 2)
        #expect(try await store.fetch(Team.self, id: "t-old")?.limits.spend == (version >= 3 ? 2 : 0.5))
        #expect(try await store.fetch(User.self, id: "u-old")?.limits.spend == (version >= 4 ? 2 : 0.5))
        #expect(try await store.fetch(Organization.self, id: "o-old")?.limits.spend == (version >= 5 ? 2 : 0.5))
        #expect(try await store.spendLogs(SpendQuery(keyHash: "tok-old")).map(\.usageEstimated) == [true, false])
        let byTeam = try await store.spendReport(by: .team, since: nil, until: nil)
        #expect(byTeam == [SpendTotal(group: "t-old", requests: 2, inputTokens: 20, outputTokens: 10, spend: 2)])
        let daily = try await store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT requests, spend FROM daily_spend WHERE day = '2023-11-14'")
        }
        #expect(daily?["requests"] == 2 && daily?["spend"] == 2.0)
        if version >= 2 {
            #expect(try await store.resetBudget(of: .key, id: "tok-old", dueBy: 5000, next: 7000))
            #expect(try await store.fetch(VirtualKey.self, id: "tok-old")?.limits.spend == 0)
        }
        var updated = key
        updated.limits.rpmLimit = 5
        try await store.update(updated)
        #expect(try await store.fetch(VirtualKey.self, id: "tok-old")?.limits.rpmLimit == 5)
        #expect(try await store.keys(teamID: "t-old", userID: nil, limit: 10, offset: 0).keys.map(\.token) == ["tok-old"])
    }
}
