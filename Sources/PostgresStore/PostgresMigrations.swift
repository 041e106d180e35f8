import Logging
import PostgresNIO

/// The PostgreSQL schema, as numbered migrations recorded in `schema_migrations`. Append-only: a
/// released migration is never edited, so every database reaches the same schema by the same
/// steps. Column types follow the SQLite store's: money and times in seconds are
/// `double precision` (SQLite's DOUBLE), counts and milliseconds `bigint`, JSON `text`.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: Int64
        var name: String
        /// One statement each: the extended query protocol runs a single statement per query.
        var statements: [String]
    }

    /// Any number both sides agree on; the two-key form keeps clear of single-key locks others take.
    static let lockKey: Int32 = 0x5350_4E57  // "SPNW"

    static let all: [Migration] = [
        Migration(
            version: 1, name: "keys, teams, users, organizations, spend logs, daily rollups",
            statements: [
                """
                CREATE TABLE keys (token text PRIMARY KEY, key_name text NOT NULL, key_alias text, team_id text,
                  user_id text, models text NOT NULL, aliases text NOT NULL, max_budget double precision,
                  budget_duration text, budget_reset_at double precision, spend double precision NOT NULL DEFAULT 0,
                  tpm_limit bigint, rpm_limit bigint, max_parallel_requests bigint, soft_budget double precision,
                  metadata text NOT NULL, expires_at double precision, blocked boolean NOT NULL DEFAULT false,
                  created_at double precision NOT NULL, allow_evaluations boolean NOT NULL DEFAULT false)
                """,
                "CREATE INDEX keys_on_key_alias ON keys (key_alias)",
                "CREATE INDEX keys_on_team_id ON keys (team_id)",
                "CREATE INDEX keys_on_user_id ON keys (user_id)",
                """
                CREATE TABLE teams (team_id text PRIMARY KEY, team_alias text, organization_id text,
                  models text NOT NULL, max_budget double precision, budget_duration text,
                  budget_reset_at double precision, spend double precision NOT NULL DEFAULT 0, tpm_limit bigint,
                  rpm_limit bigint, max_parallel_requests bigint, metadata text NOT NULL,
                  blocked boolean NOT NULL DEFAULT false, members text NOT NULL, created_at double precision NOT NULL)
                """,
                "CREATE INDEX teams_on_organization_id ON teams (organization_id)",
                """
                CREATE TABLE users (user_id text PRIMARY KEY, user_alias text, user_email text, user_role text NOT NULL,
                  models text NOT NULL, max_budget double precision, budget_duration text,
                  budget_reset_at double precision, spend double precision NOT NULL DEFAULT 0, tpm_limit bigint,
                  rpm_limit bigint, max_parallel_requests bigint, metadata text NOT NULL,
                  created_at double precision NOT NULL)
                """,
                """
                CREATE TABLE organizations (organization_id text PRIMARY KEY, organization_alias text NOT NULL,
                  models text NOT NULL, max_budget double precision, budget_duration text,
                  budget_reset_at double precision, spend double precision NOT NULL DEFAULT 0, tpm_limit bigint,
                  rpm_limit bigint, max_parallel_requests bigint, metadata text NOT NULL,
                  created_at double precision NOT NULL)
                """,
                // Nullable measurements: rows from older journals did not measure them.
                """
                CREATE TABLE spend_logs (request_id text PRIMARY KEY, trace_id text NOT NULL, start_time bigint NOT NULL,
                  end_time bigint NOT NULL, key_hash text, key_alias text, team_id text, user_id text, org_id text,
                  operation text NOT NULL, model text, model_group text, deployment_id text, provider text,
                  input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, cache_read_tokens bigint NOT NULL,
                  cache_creation_tokens bigint NOT NULL, reasoning_tokens bigint NOT NULL,
                  spend double precision NOT NULL, status_code bigint NOT NULL, error_type text,
                  usage_estimated boolean NOT NULL DEFAULT false, eval_run_id text, eval_item_id text, attempts bigint,
                  fallback_depth bigint, latency_ms double precision, upstream_latency_ms double precision,
                  overhead_ms double precision, time_to_first_token_ms double precision, tags text, end_user text)
                """,
                "CREATE INDEX spend_logs_on_start_time ON spend_logs (start_time)",
                "CREATE INDEX spend_logs_on_key_hash ON spend_logs (key_hash)",
                "CREATE INDEX spend_logs_on_team_id ON spend_logs (team_id)",
                "CREATE INDEX spend_logs_on_eval_run_id ON spend_logs (eval_run_id) WHERE eval_run_id IS NOT NULL",
                // Empty strings rather than NULL in the key columns, so the primary key groups them.
                """
                CREATE TABLE daily_spend (day text NOT NULL, key_hash text NOT NULL, team_id text NOT NULL,
                  model_group text NOT NULL, provider text NOT NULL, requests bigint NOT NULL,
                  input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, spend double precision NOT NULL,
                  PRIMARY KEY (day, key_hash, team_id, model_group, provider))
                """,
            ]),
        Migration(
            version: 2, name: "end users and budget tiers; budget ids on keys and organizations",
            statements: [
                """
                CREATE TABLE budgets (budget_id text PRIMARY KEY, models text NOT NULL DEFAULT '[]',
                  max_budget double precision, soft_budget double precision, budget_duration text,
                  budget_reset_at double precision, spend double precision NOT NULL DEFAULT 0, tpm_limit bigint,
                  rpm_limit bigint, max_parallel_requests bigint, tpd_limit bigint, model_max_budget text,
                  metadata text NOT NULL DEFAULT '{}', created_at double precision NOT NULL,
                  updated_at double precision NOT NULL)
                """,
                // Defaults: a request's cost makes the row of an end user not seen before.
                """
                CREATE TABLE end_users (user_id text PRIMARY KEY, alias text, blocked boolean NOT NULL DEFAULT false,
                  allowed_model_region text, default_model text, budget_id text, models text NOT NULL DEFAULT '[]',
                  max_budget double precision, budget_duration text, budget_reset_at double precision,
                  spend double precision NOT NULL DEFAULT 0, tpm_limit bigint, rpm_limit bigint,
                  max_parallel_requests bigint, metadata text NOT NULL DEFAULT '{}', created_at double precision NOT NULL)
                """,
                "CREATE INDEX end_users_on_budget_id ON end_users (budget_id)",
                "ALTER TABLE keys ADD COLUMN budget_id text",
                "ALTER TABLE organizations ADD COLUMN budget_id text",
            ]),
        Migration(
            version: 3, name: "LiteLLM key, user, team and organization fields",
            statements: [
                "ALTER TABLE keys ADD COLUMN organization_id text",
                "ALTER TABLE keys ADD COLUMN tags text NOT NULL DEFAULT '[]'",
                "ALTER TABLE keys ADD COLUMN allowed_routes text NOT NULL DEFAULT '[]'",
                "ALTER TABLE keys ADD COLUMN temp_budget_increase double precision",
                "ALTER TABLE keys ADD COLUMN temp_budget_expiry double precision",
                "ALTER TABLE keys ADD COLUMN updated_at double precision",
                "ALTER TABLE keys ADD COLUMN litellm_fields text NOT NULL DEFAULT '{}'",
                "CREATE INDEX keys_on_organization_id ON keys (organization_id)",
                "ALTER TABLE users ADD COLUMN litellm_fields text NOT NULL DEFAULT '{}'",
                "ALTER TABLE teams ADD COLUMN litellm_fields text NOT NULL DEFAULT '{}'",
                "ALTER TABLE teams ADD COLUMN model_aliases text NOT NULL DEFAULT '{}'",
                "ALTER TABLE organizations ADD COLUMN litellm_fields text NOT NULL DEFAULT '{}'",
            ]),
        Migration(
            version: 4, name: "models added through the admin API",
            statements: [
                """
                CREATE TABLE models (model_id text PRIMARY KEY, model_name text NOT NULL, litellm_params text NOT NULL,
                  model_info text NOT NULL, created_at double precision NOT NULL, updated_at double precision NOT NULL)
                """
            ]),
        Migration(
            version: 5, name: "Responses API answers",
            statements: [
                """
                CREATE TABLE responses (id text PRIMARY KEY, owner text NOT NULL, body text NOT NULL,
                  created_at double precision NOT NULL, expires_at double precision NOT NULL)
                """,
                "CREATE INDEX responses_on_expires_at ON responses (expires_at)",
            ]),
    ]

    /// Applies the migrations not yet recorded, each in its own transaction, while holding a
    /// session advisory lock on this connection, so replicas starting together apply each once:
    /// the others wait on the lock, then find them recorded. Closing the connection (or the
    /// process dying) releases the lock.
    static func apply(on connection: PostgresConnection, schema: String?, logger: Logger) async throws -> [Int64] {
        try await connection.query("SELECT pg_advisory_lock(\(lockKey), 0)", logger: logger)
        do {
            let applied = try await applyLocked(on: connection, schema: schema, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey), 0)", logger: logger)
            return applied
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey), 0)", logger: logger)
            throw error
        }
    }

    private static func applyLocked(on connection: PostgresConnection, schema: String?, logger: Logger) async throws -> [Int64] {
        if let schema {
            // Validated by `PostgresURL` to letters, digits and underscores.
            try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: "\"\(schema)\"")", logger: logger)
        }
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, name text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var done = Set<Int64>()
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(Int64.self)
        {
            done.insert(version)
        }
        var applied: [Int64] = []
        for migration in all where !done.contains(migration.version) {
            do {
                try await connection.withTransaction(logger: logger) { transaction in
                    for statement in migration.statements {
                        try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await transaction.query(
                        "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: logger)
                }
            } catch {
                throw PostgresStoreError.migration(
                    "PostgreSQL migration \(migration.version) (\(migration.name)) failed: \(PostgresFailure.describe(error))")
            }
            logger.info("applied a PostgreSQL migration", metadata: ["version": "\(migration.version)"])
            applied.append(migration.version)
        }
        return applied
    }
}
