import Foundation
import GRDB
import GatewayTesting
import Logging
import PostgresNIO
import PostgresStore
import Telemetry
import Testing

@testable import Store

/// `spanway import litellm --from postgres://…`, through the real binary, from a database with
/// LiteLLM's own schema (litellm-proxy-extras 0.4.110's migrations, which litellm 1.108.7 pins)
/// and rows as LiteLLM 1.108.7 writes them (`key_management_endpoints.py`, `team_endpoints.py`,
/// `db_spend_update_writer.py`), into a SQLite store and a PostgreSQL one; then a gateway on that
/// store. Needs `SPANWAY_TEST_DATABASE_URL`; under CI a missing one fails the test.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: !(ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"] ?? "").isEmpty
            || ProcessInfo.processInfo.environment["CI"] != nil,
        "set SPANWAY_TEST_DATABASE_URL (scripts/test-services.sh starts a server) to test the LiteLLM import"),
    .enabled(if: CrashTests.runnable, "needs .build/debug/spanway, which swift test builds"))
struct LiteLLMImportTests {
    // Raw keys as LiteLLM mints them (`sk-` and the rest), and their tokens as LiteLLM stores
    // them: `hashlib.sha256(key.encode()).hexdigest()`, computed with Python, not with Spanway.
    static let atBudgetKey = "sk-LiteLLMImportAtBudget0001"
    static let atBudgetToken = "0fb2f2bdc1a73a5a59d3ed4581b242185d3fd5d8df900adfaa5ee8276340cab4"
    static let underBudgetKey = "sk-LiteLLMImportUnderBudget02"
    static let underBudgetToken = "f1d512146f11772f4cea5131d93b54d8eb03b7e90b0679acbaa0fc09f4e86f69"
    /// LiteLLM's documented example: `hash_token("sk-1234")`.
    static let blockedKey = "sk-1234"
    static let blockedToken = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"

    /// A key LiteLLM's admin UI made for a login session: its team is no row of the team table.
    static let dashboardToken = String(repeating: "d", count: 64)

    // TIMESTAMP(3) values below as seconds since the epoch, from Python's
    // `datetime(…, tzinfo=timezone.utc).timestamp()`.
    static let created = 1_743_006_073.123  // 2025-03-26 16:21:13.123
    static let resetAt = 4_070_908_800.0  // 2099-01-01 00:00:00
    static let userResetAt = 4_073_587_200.0  // 2099-02-01 00:00:00
    static let expires = 4_083_998_400.25  // 2099-06-01 12:00:00.250

    /// What LiteLLM writes: `/budget/new` and the tier `/key/generate` makes for `soft_budget`,
    /// `/organization/new`, `/team/new` + `/team/member_add`, `/user/new`, `/key/generate`,
    /// the daily spend writer's team, user and tag rows, a model added with `/model/new`
    /// (encrypted `litellm_params`) and `/customer/new`.
    static let rows = """
        INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit,
          budget_duration, budget_reset_at, model_max_budget, allowed_models, created_at, created_by, updated_at, updated_by)
        VALUES ('budget-org', 100.0, 80.0, 8, 1000, 50, '30d', '2099-01-01 00:00:00.000', '{}', '{}',
                '2025-03-26 16:21:13.123', 'admin', '2025-03-26 16:21:13.123', 'admin'),
               ('budget-key-soft', NULL, 4.0, NULL, NULL, NULL, NULL, NULL, NULL, '{}',
                '2025-03-26 16:21:13.123', 'admin', '2025-03-26 16:21:13.123', 'admin'),
               ('budget-customer', 10.0, NULL, NULL, NULL, 5, '1d', '2099-01-01 00:00:00.000', NULL, '{gpt-4o-mini}',
                '2025-03-26 16:21:13.123', 'admin', '2025-03-26 16:21:13.123', 'admin');
        INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, metadata, models, spend,
          model_spend, created_at, created_by, updated_at, updated_by)
        VALUES ('org-1', 'Research', 'budget-org', '{"cost_center":"r-1"}', '{gpt-4o-mini}', 12.5, '{"gpt-4o-mini":12.5}',
                '2025-03-26 16:21:13.123', 'admin', '2025-03-26 16:21:13.123', 'admin');
        INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, organization_id, admins, members, members_with_roles, metadata,
          max_budget, soft_budget, spend, models, max_parallel_requests, tpm_limit, rpm_limit, budget_duration,
          budget_reset_at, blocked, created_at, updated_at, model_spend, model_max_budget)
        VALUES ('team-1', 'Platform', 'org-1', '{}', '{}',
                '[{"role":"admin","user_id":"user-1","user_email":"ada@example.com"},{"role":"user","user_id":"user-2","user_email":null},{"role":"user","user_id":null,"user_email":"guest@example.com"}]',
                '{"team_note":"kept"}', 50.0, 40.0, 7.25, '{gpt-4o-mini}', 4, 5000, 100, '7d', '2099-01-01 00:00:00.000',
                false, '2025-03-26 16:21:13.123', '2025-03-26 16:21:13.123', '{"gpt-4o-mini":7.25}', '{}');
        INSERT INTO "LiteLLM_UserTable" (user_id, user_alias, team_id, teams, user_role, max_budget, spend, user_email,
          models, metadata, max_parallel_requests, tpm_limit, rpm_limit, budget_duration, budget_reset_at, model_spend,
          model_max_budget, password, created_at, updated_at)
        VALUES ('user-1', 'Ada', NULL, '{team-1}', 'proxy_admin', 20.0, 3.5, 'ada@example.com', '{}', '{"dept":"infra"}',
                NULL, 200, 10, '30d', '2099-02-01 00:00:00.000', '{"gpt-4o-mini":3.5}', '{}', 'pbkdf2-not-a-real-hash',
                '2025-03-26 16:21:13.123', '2025-03-26 16:21:13.123'),
               ('user-2', NULL, NULL, '{team-1}', 'internal_user', NULL, 1.25, NULL, NULL, '{}', NULL, NULL, NULL, NULL,
                NULL, '{}', '{}', NULL, '2025-03-26 16:21:13.123', '2025-03-26 16:21:13.123'),
               ('user-3', NULL, NULL, '{team-1}', 'internal_user', NULL, 0, NULL, '{}', '{}', NULL, NULL, NULL, NULL,
                NULL, '{}', '{}', NULL, '2025-03-26 16:21:13.123', '2025-03-26 16:21:13.123');
        INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend, budget_id)
        VALUES ('user-1', 'team-1', 1.0, NULL), ('user-2', 'team-1', 0.0, NULL), ('user-3', 'team-1', 0.0, NULL);
        INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, soft_budget_cooldown, spend, expires, models,
          aliases, config, user_id, team_id, permissions, max_parallel_requests, metadata, blocked, tpm_limit, rpm_limit,
          max_budget, budget_duration, budget_reset_at, allowed_cache_controls, allowed_routes, model_spend,
          model_max_budget, budget_id, organization_id, created_at, created_by, updated_at, updated_by)
        VALUES ('\(atBudgetToken)', 'sk-...0001', 'at-budget', false, 2.0, NULL, '{gpt-4o-mini}',
                '{"smart":"gpt-4o-mini"}', '{}', 'user-1', 'team-1', '{}', 3, '{"tags":["prod"],"env":"prod"}', NULL,
                1000, 60, 2.0, '30d', '2099-01-01 00:00:00.000', '{}', '{}', '{"gpt-4o-mini":2.0}',
                '{"gpt-4o-mini":{"budget_limit":1.5,"time_period":"1d"}}', 'budget-key-soft', NULL,
                '2025-03-26 16:21:13.123', 'user-1', '2025-03-26 16:21:13.123', 'user-1'),
               ('\(underBudgetToken)', 'sk-...ft02', 'under-budget', false, 1.25, '2099-06-01 12:00:00.250', NULL, '{}',
                '{}', 'user-2', NULL, '{}', NULL, '{}', false, NULL, NULL, 5.0, NULL, NULL, '{}', '{}', '{}', '{}', NULL,
                NULL, '2025-03-26 16:21:13.123', 'user-2', '2025-03-26 16:21:13.123', 'user-2'),
               ('\(blockedToken)', 'sk-...1234', 'blocked', false, 0.0, NULL, '{}', '{}', '{}', NULL, NULL, '{}', NULL,
                '{}', true, NULL, NULL, NULL, NULL, NULL, '{}', '{}', '{}', '{}', NULL, NULL, '2025-03-26 16:21:13.123',
                'admin', '2025-03-26 16:21:13.123', 'admin'),
               ('\(dashboardToken)', 'sk-...dash', NULL, false, 0.0, '2099-01-01 00:00:00.000', '{}', '{}', '{}',
                'user-1', 'litellm-dashboard', '{}', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, '{}', '{}', '{}',
                '{}', NULL, NULL, '2025-03-26 16:21:13.123', 'user-1', '2025-03-26 16:21:13.123', 'user-1');
        INSERT INTO "LiteLLM_DailyTeamSpend" (id, team_id, date, api_key, model, model_group, custom_llm_provider,
          prompt_tokens, completion_tokens, cache_read_input_tokens, spend, api_requests, successful_requests,
          failed_requests, created_at, updated_at)
        VALUES ('d-t-1', 'team-1', '2026-11-01', '\(atBudgetToken)', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini', 'openai',
                100, 50, 20, 2.0, 4, 4, 0, '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000');
        INSERT INTO "LiteLLM_DailyUserSpend" (id, user_id, date, api_key, model, model_group, custom_llm_provider,
          prompt_tokens, completion_tokens, cache_read_input_tokens, spend, api_requests, successful_requests,
          failed_requests, created_at, updated_at)
        VALUES ('d-u-1', 'user-1', '2026-11-01', '\(atBudgetToken)', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini', 'openai',
                100, 50, 20, 2.0, 4, 4, 0, '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000'),
               ('d-u-2', 'user-2', '2026-11-01', '\(underBudgetToken)', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini',
                'openai', 60, 30, 0, 1.25, 3, 2, 1, '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000');
        INSERT INTO "LiteLLM_DailyTagSpend" (id, tag, date, api_key, model, model_group, custom_llm_provider, prompt_tokens,
          completion_tokens, spend, api_requests, created_at, updated_at)
        VALUES ('d-g-1', 'prod', '2026-11-01', '\(atBudgetToken)', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini', 'openai', 100,
                50, 2.0, 4, '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000');
        INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by)
        VALUES ('m-1', 'db-model', '{"model":"\(modelCiphertext)","api_key":"\(keyCiphertext)"}', '{}', 'admin', 'admin');
        INSERT INTO "LiteLLM_EndUserTable" (user_id, alias, spend, models, budget_id, blocked)
        VALUES ('customer-1', 'Acme', 0.75, '{}', 'budget-customer', false);
        """
    static let modelCiphertext = "c2VjcmV0LW1vZGVsLWNpcGhlcnRleHQ"
    static let keyCiphertext = "c2VjcmV0LWFwaS1rZXktY2lwaGVydGV4dA"

    static var baseURL: String? {
        ProcessInfo.processInfo.environment["SPANWAY_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    @Test func intoSQLite() async throws {
        let base = try #require(Self.baseURL, "CI is set but SPANWAY_TEST_DATABASE_URL is not: run scripts/test-services.sh")
        let source = try await LiteLLMSourceDatabase.create(base: base)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-import-\(UUID().uuidString).db").path
        do {
            try await source.run(Self.rows)
            let storeURL = "sqlite:" + path
            let first = try await Self.importCLI(from: source.url, into: storeURL)
            let store = try SQLiteStore(path: path)
            try await Self.checkRecords(in: store, report: first)
            #expect(try await Self.sqliteRollups(store) == Self.expectedRollups)

            // A second run changes nothing, not even the spend or the rollups.
            let before = try await Self.dump(store)
            let second = try await Self.importCLI(from: source.url, into: storeURL)
            #expect(try await Self.dump(store) == before)
            #expect(second.contains("keys: 0 created, 0 replaced, 4 unchanged"))
            #expect(second.contains("budget tiers: 0 created, 0 replaced, 3 unchanged"))

            // A record changed in Spanway takes LiteLLM's values again, but for a spend larger
            // than LiteLLM's (spend is never lowered); Spanway-only fields stay.
            var changed = try #require(try await store.fetch(VirtualKey.self, id: Self.underBudgetToken))
            changed.limits.spend = 4.5
            changed.keyAlias = "renamed"
            changed.allowEvaluations = true
            try await store.update(changed)
            let third = try await Self.importCLI(from: source.url, into: storeURL)
            #expect(third.contains("keys: 0 created, 1 replaced, 3 unchanged"))
            #expect(third.contains(Self.underBudgetToken))
            var restored = try #require(try await store.fetch(VirtualKey.self, id: Self.underBudgetToken))
            #expect(restored.limits.spend == 4.5 && restored.keyAlias == "under-budget" && restored.allowEvaluations)
            // A spend below LiteLLM's takes LiteLLM's.
            restored.limits.spend = 0.5
            restored.allowEvaluations = false
            try await store.update(restored)
            _ = try await Self.importCLI(from: source.url, into: storeURL)
            #expect(try await Self.dump(store) == before)

            try await Self.checkGateway(on: store)

            // What the gateway spent since the import survives a re-run, and so does a rollup slot
            // both gateways served where Spanway counted more (a figure LiteLLM counted more in
            // takes LiteLLM's).
            let spent = try #require(try await store.fetch(VirtualKey.self, id: Self.underBudgetToken)).limits.spend
            #expect(spent > 1.25)
            try await store.pool.write { db in
                try db.execute(
                    sql: "UPDATE daily_spend SET requests = 9, input_tokens = 10, spend = 5 WHERE day = ? AND key_hash = ?",
                    arguments: ["2026-11-01", Self.underBudgetToken])
            }
            let rerun = try await Self.importCLI(from: source.url, into: storeURL)
            #expect(rerun.contains("keys: 0 created, 0 replaced, 4 unchanged"), "\(rerun)")
            #expect(try await store.fetch(VirtualKey.self, id: Self.underBudgetToken)?.limits.spend == spent)
            #expect(try await Self.sqliteRollups(store).filter { $0.day == "2026-11-01" } == Self.rollupsAfterSpanwaySpent)
        } catch {
            await source.drop()
            throw error
        }
        await source.drop()
    }

    @Test func intoPostgreSQL() async throws {
        let base = try #require(Self.baseURL, "CI is set but SPANWAY_TEST_DATABASE_URL is not: run scripts/test-services.sh")
        let source = try await LiteLLMSourceDatabase.create(base: base)
        let schema = "import_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let storeURL = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        var opened: PostgresStore?
        do {
            try await source.run(Self.rows)
            let first = try await Self.importCLI(from: source.url, into: storeURL)
            let store = try await PostgresStore.connect(url: storeURL, logger: Logger(label: "import-test"))
            opened = store
            try await Self.checkRecords(in: store, report: first)
            #expect(try await Self.postgresRollups(store) == Self.expectedRollups)

            let before = try await Self.dump(store, schema: schema)
            let second = try await Self.importCLI(from: source.url, into: storeURL)
            #expect(try await Self.dump(store, schema: schema) == before)
            #expect(second.contains("keys: 0 created, 0 replaced, 4 unchanged"))

            try await Self.checkGateway(on: store)

            // What the gateway spent since the import survives a re-run, and so does a rollup slot
            // where Spanway counted more.
            let spent = try #require(try await store.fetch(VirtualKey.self, id: Self.underBudgetToken)).limits.spend
            #expect(spent > 1.25)
            try await store.client.query(
                """
                UPDATE daily_spend SET requests = 9, input_tokens = 10, spend = 5
                WHERE day = '2026-11-01' AND key_hash = \(Self.underBudgetToken)
                """)
            let rerun = try await Self.importCLI(from: source.url, into: storeURL)
            #expect(rerun.contains("keys: 0 created, 0 replaced, 4 unchanged"), "\(rerun)")
            #expect(try await store.fetch(VirtualKey.self, id: Self.underBudgetToken)?.limits.spend == spent)
            #expect(try await Self.postgresRollups(store).filter { $0.day == "2026-11-01" } == Self.rollupsAfterSpanwaySpent)
        } catch {
            await Self.close(opened, schema: schema, source: source)
            throw error
        }
        await Self.close(opened, schema: schema, source: source)
    }

    static func close(_ store: PostgresStore?, schema: String, source: LiteLLMSourceDatabase) async {
        if let store {
            _ = try? await store.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
            await store.shutdown()
        }
        await source.drop()
    }

    /// Runs `spanway import litellm` and returns what it printed; fails unless it exits 0.
    static func importCLI(from source: String, into store: String) async throws -> String {
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["import", "litellm", "--from", source, "--database-url", store],
            environment: ["PATH": "/usr/bin:/bin"])
        let status = await child.exit()
        await child.outputEnded()
        let output = child.output
        #expect(status == 0, "spanway import litellm failed: \(output)")
        // Neither a login password hash nor an encrypted model secret is ever printed.
        #expect(
            !output.contains("pbkdf2-not-a-real-hash") && !output.contains(modelCiphertext) && !output.contains(keyCiphertext))
        return output
    }

    // MARK: What arrives

    static func checkRecords(in store: any GatewayStore, report: String) async throws {
        let atBudget = try #require(try await store.fetch(VirtualKey.self, id: atBudgetToken))
        #expect(atBudget.keyName == "sk-...0001" && atBudget.keyAlias == "at-budget")
        #expect(atBudget.teamID == "team-1" && atBudget.userID == "user-1" && atBudget.organizationID == nil)
        #expect(
            atBudget.limits
                == Limits(
                    models: ["gpt-4o-mini"], maxBudget: 2, budgetDuration: "30d", budgetResetAt: resetAt, spend: 2,
                    tpmLimit: 1000, rpmLimit: 60, maxParallelRequests: 3))
        #expect(atBudget.aliases == ["smart": "gpt-4o-mini"] && atBudget.tags == ["prod"])
        #expect(try JSONParser.parse(Array(atBudget.metadata.utf8))["env"] == "prod")
        #expect(atBudget.budgetID == "budget-key-soft" && atBudget.softBudget == 4)
        #expect(atBudget.createdAt == created && atBudget.expiresAt == nil && !atBudget.blocked)
        let kept = try JSONParser.parse(Array(atBudget.litellmFields.utf8))
        #expect(kept["model_max_budget"]?["gpt-4o-mini"]?["budget_limit"]?.doubleValue == 1.5)
        #expect(kept["created_by"] == "user-1")

        let underBudget = try #require(try await store.fetch(VirtualKey.self, id: underBudgetToken))
        // `models` NULL in SQL reads as no restriction.
        #expect(underBudget.limits == Limits(maxBudget: 5, spend: 1.25))
        #expect(underBudget.expiresAt == expires && underBudget.teamID == nil && !underBudget.blocked)
        #expect(try #require(try await store.fetch(VirtualKey.self, id: blockedToken)).blocked)

        let team = try #require(try await store.fetch(Team.self, id: "team-1"))
        #expect(team.teamAlias == "Platform" && team.organizationID == "org-1" && !team.blocked)
        #expect(
            team.limits
                == Limits(
                    models: ["gpt-4o-mini"], maxBudget: 50, budgetDuration: "7d", budgetResetAt: resetAt, spend: 7.25,
                    tpmLimit: 5000, rpmLimit: 100, maxParallelRequests: 4))
        // From members_with_roles, then the memberships LiteLLM also records.
        #expect(
            team.members == [
                Team.Member(userID: "user-1", role: "admin"), Team.Member(userID: "user-2", role: "user"),
                Team.Member(userID: "user-3", role: "user"),
            ])
        #expect(try JSONParser.parse(Array(team.metadata.utf8))["team_note"] == "kept")

        let ada = try #require(try await store.fetch(User.self, id: "user-1"))
        #expect(ada.userAlias == "Ada" && ada.userEmail == "ada@example.com" && ada.userRole == "proxy_admin")
        #expect(
            ada.limits
                == Limits(
                    maxBudget: 20, budgetDuration: "30d", budgetResetAt: userResetAt, spend: 3.5, tpmLimit: 200, rpmLimit: 10))
        #expect(try #require(try await store.fetch(User.self, id: "user-2")).limits.spend == 1.25)

        let organization = try #require(try await store.fetch(Organization.self, id: "org-1"))
        #expect(organization.organizationAlias == "Research" && organization.budgetID == "budget-org")
        #expect(organization.limits.spend == 12.5 && organization.limits.models == ["gpt-4o-mini"])
        let tier = try #require(try await store.fetch(Budget.self, id: "budget-org"))
        #expect(
            tier.limits
                == Limits(
                    maxBudget: 100, budgetDuration: "30d", budgetResetAt: resetAt, tpmLimit: 1000, rpmLimit: 50,
                    maxParallelRequests: 8))
        #expect(tier.softBudget == 80 && tier.createdAt == created)
        let customerTier = try #require(try await store.fetch(Budget.self, id: "budget-customer"))
        #expect(customerTier.limits.maxBudget == 10 && customerTier.limits.models == ["gpt-4o-mini"])

        let customer = try #require(try await store.fetch(EndUser.self, id: "customer-1"))
        #expect(customer.alias == "Acme" && customer.budgetID == "budget-customer" && customer.limits.spend == 0.75)

        #expect(report.contains("keys: 4 created, 0 replaced, 0 unchanged"))
        #expect(try await store.fetch(VirtualKey.self, id: dashboardToken)?.teamID == "litellm-dashboard")
        #expect(report.contains("does not have (imported as they are):\n  LiteLLM_VerificationToken.team_id: 1 row"))
        #expect(report.contains("teams: 1 created") && report.contains("users: 3 created"))
        #expect(report.contains("organizations: 1 created") && report.contains("end users: 1 created"))
        // What has no place in Spanway is named, with how many rows held it.
        #expect(report.contains("LiteLLM_UserTable.password: 1 row"))
        #expect(report.contains("LiteLLM_VerificationToken.model_spend: 1 row"))
        #expect(report.contains("LiteLLM_TeamTable.members_with_roles (member without user_id): 1 row"))
        #expect(report.contains("LiteLLM_DailyTagSpend: 1 row not imported"))
        #expect(report.contains("LiteLLM_ProxyModelTable: 1 model"))
    }

    /// The team's rows go to the team; the user rows beyond them (key B has no team) to none.
    static let expectedRollups = [
        DailySpendTotal(
            day: "2026-11-01", keyHash: atBudgetToken, teamID: "team-1", modelGroup: "gpt-4o-mini", provider: "openai",
            requests: 4, inputTokens: 100, outputTokens: 50, spend: 2.0),
        DailySpendTotal(
            day: "2026-11-01", keyHash: underBudgetToken, teamID: "", modelGroup: "gpt-4o-mini", provider: "openai",
            requests: 3, inputTokens: 60, outputTokens: 30, spend: 1.25),
    ]

    /// `expectedRollups` after Spanway counted 9 requests, 10 input tokens and 5 USD in the second
    /// slot: each figure the larger of the two.
    static let rollupsAfterSpanwaySpent = [
        expectedRollups[0],
        DailySpendTotal(
            day: "2026-11-01", keyHash: underBudgetToken, teamID: "", modelGroup: "gpt-4o-mini", provider: "openai",
            requests: 9, inputTokens: 60, outputTokens: 30, spend: 5),
    ]

    /// The raw keys LiteLLM issued authenticate against a gateway on the imported store, and their
    /// budgets hold the spend LiteLLM counted.
    static func checkGateway(on store: any GatewayStore) async throws {
        try await Harness.with(config: e2eConfig, wrapStore: { _ in store }, journal: false) { h in
            let body = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}"#
            let spent = try await h.send("/v1/chat/completions", json: body, key: atBudgetKey)
            #expect(spent.status == 422 && spent.json?["error"]?["code"] == "budget_exceeded", "\(spent.text)")
            let admitted = try await h.send("/v1/chat/completions", json: body, key: underBudgetKey)
            #expect(admitted.status == 200, "\(admitted.text)")
            let blocked = try await h.send("/v1/chat/completions", json: body, key: blockedKey)
            #expect(blocked.status == 401 && blocked.text.contains("blocked"))
            let unknown = try await h.send("/v1/chat/completions", json: body, key: "sk-LiteLLMImportNeverIssued")
            #expect(unknown.status == 401)
            // The answered request adds to the spend LiteLLM counted.
            let cost = try #require(admitted.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            #expect(cost > 0)
            let charged = try #require(try await store.fetch(VirtualKey.self, id: underBudgetToken))
            #expect(abs(charged.limits.spend - (1.25 + cost)) < 1e-9)
        }
    }

    // MARK: Store contents

    /// Every row of every table, as text, sorted: equal dumps are equal stores.
    static func dump(_ store: SQLiteStore) async throws -> [String: [String]] {
        try await store.pool.read { db in
            var tables: [String: [String]] = [:]
            for table in try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map(\.description).sorted()
            }
            return tables
        }
    }

    static func dump(_ store: PostgresStore, schema: String) async throws -> [String: [String]] {
        var names: [String] = []
        for try await name in try await store.client.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = \(schema)"
        ).decode(String.self) {
            names.append(name)
        }
        var tables: [String: [String]] = [:]
        for name in names {
            var rows: [String] = []
            for try await row in try await store.client.query(
                PostgresQuery(unsafeSQL: "SELECT to_jsonb(t)::text FROM \"\(schema)\".\"\(name)\" t")
            ).decode(String.self) {
                rows.append(row)
            }
            tables[name] = rows.sorted()
        }
        return tables
    }

    static func sqliteRollups(_ store: SQLiteStore) async throws -> [DailySpendTotal] {
        try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM daily_spend ORDER BY day, key_hash, team_id").map { row in
                DailySpendTotal(
                    day: row["day"], keyHash: row["key_hash"], teamID: row["team_id"], modelGroup: row["model_group"],
                    provider: row["provider"], requests: row["requests"], inputTokens: row["input_tokens"],
                    outputTokens: row["output_tokens"], spend: row["spend"])
            }
        }
    }

    static func postgresRollups(_ store: PostgresStore) async throws -> [DailySpendTotal] {
        var totals: [DailySpendTotal] = []
        let rows = try await store.client.query(
            """
            SELECT day, key_hash, team_id, model_group, provider, requests, input_tokens, output_tokens, spend
            FROM daily_spend ORDER BY day, key_hash COLLATE "C", team_id COLLATE "C"
            """)
        for try await (day, key, team, group, provider, requests, input, output, spend) in rows.decode(
            (String, String, String, String, String, Int, Int, Int, Double).self)
        {
            totals.append(
                DailySpendTotal(
                    day: day, keyHash: key, teamID: team, modelGroup: group, provider: provider, requests: requests,
                    inputTokens: input, outputTokens: output, spend: spend))
        }
        return totals
    }
}

/// Needs no database: LiteLLM's stored tokens are the digests Spanway computes.
struct LiteLLMKeyDigestTests {
    /// LiteLLM's `hash_token` is SHA-256 over the whole key, `sk-` included; so is Spanway's digest.
    @Test func litellmTokensAreSpanwayDigests() {
        #expect(KeyDigest(key: LiteLLMImportTests.blockedKey).hex == LiteLLMImportTests.blockedToken)
        #expect(KeyDigest(key: LiteLLMImportTests.atBudgetKey).hex == LiteLLMImportTests.atBudgetToken)
        #expect(KeyDigest(key: LiteLLMImportTests.underBudgetKey).hex == LiteLLMImportTests.underBudgetToken)
    }
}
