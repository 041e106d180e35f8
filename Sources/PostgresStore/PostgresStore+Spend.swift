import PostgresNIO
import Store
import Telemetry

extension PostgresStore {
    /// One statement per batch: the rows are bound as one array per column and unnested, so the
    /// SQL and its 33 binds are the same at any batch size. A request id already stored is
    /// skipped (`ON CONFLICT DO NOTHING`, like SQLite's `INSERT OR IGNORE`), and only the rows
    /// actually inserted add to the owners' spend and the daily rollups, so replaying a journal
    /// batch changes nothing. The owners' spend grows by each batch's sum per owner, where SQLite
    /// adds row by row: the totals agree up to floating-point rounding of the additions' order.
    public func recordSpend(_ rows: [SpendRow]) async throws {
        guard !rows.isEmpty else { return }
        func text(_ value: (SpendRow) -> String?) -> NullableArray<String> { NullableArray(rows.map(value)) }
        func integer(_ value: (SpendRow) -> Int?) -> NullableArray<Int64> {
            NullableArray(rows.map { value($0).map(Int64.init) })
        }
        func real(_ value: (SpendRow) -> Double?) -> NullableArray<Double> {
            // NaN and infinities are not measurements; SQLite stores NaN as NULL too.
            NullableArray(rows.map { value($0).flatMap { $0.isFinite ? $0 : nil } })
        }
        let tags = text { row in
            row.tags.map { String(decoding: JSONValue.array($0.map(JSONValue.string)).encoded(), as: UTF8.self) }
        }
        let query: PostgresQuery = """
            WITH input AS (
              SELECT * FROM unnest(\(rows.map(\.requestID))::text[], \(rows.map(\.traceID))::text[],
                \(rows.map(\.startTime))::bigint[], \(rows.map(\.endTime))::bigint[], \(text(\.keyHash))::text[],
                \(text(\.keyAlias))::text[], \(text(\.teamID))::text[], \(text(\.userID))::text[], \(text(\.orgID))::text[],
                \(rows.map(\.operation))::text[], \(text(\.model))::text[], \(text(\.modelGroup))::text[],
                \(text(\.deploymentID))::text[], \(text(\.provider))::text[], \(rows.map { Int64($0.inputTokens) })::bigint[],
                \(rows.map { Int64($0.outputTokens) })::bigint[], \(rows.map { Int64($0.cacheReadTokens) })::bigint[],
                \(rows.map { Int64($0.cacheCreationTokens) })::bigint[], \(rows.map { Int64($0.reasoningTokens) })::bigint[],
                \(rows.map(\.spend))::double precision[], \(rows.map { Int64($0.statusCode) })::bigint[],
                \(text(\.errorType))::text[], \(rows.map(\.usageEstimated))::boolean[], \(text(\.evalRunID))::text[],
                \(text(\.evalItemID))::text[], \(integer(\.attempts))::bigint[], \(integer(\.fallbackDepth))::bigint[],
                \(real(\.latencyMs))::double precision[], \(real(\.upstreamLatencyMs))::double precision[],
                \(real(\.overheadMs))::double precision[], \(real(\.timeToFirstTokenMs))::double precision[],
                \(tags)::text[], \(text(\.endUser))::text[])
              AS r(\(unescaped: Self.spendColumns))
            ), inserted AS (
              INSERT INTO spend_logs (\(unescaped: Self.spendColumns)) SELECT * FROM input
              ON CONFLICT (request_id) DO NOTHING
              RETURNING start_time, end_time, key_hash, team_id, user_id, org_id, end_user, model_group, provider,
                input_tokens, output_tokens, spend
            )\(unescaped: Self.charges), rolled_up AS (
              INSERT INTO daily_spend (day, key_hash, team_id, model_group, provider, requests, input_tokens,
                output_tokens, spend)
              SELECT \(unescaped: Self.dayExpression), COALESCE(key_hash, ''), COALESCE(team_id, ''),
                COALESCE(model_group, ''), COALESCE(provider, ''), count(*), sum(input_tokens), sum(output_tokens),
                sum(spend)
              FROM inserted GROUP BY 1, 2, 3, 4, 5
              ON CONFLICT (day, key_hash, team_id, model_group, provider) DO UPDATE SET
                requests = daily_spend.requests + excluded.requests,
                input_tokens = daily_spend.input_tokens + excluded.input_tokens,
                output_tokens = daily_spend.output_tokens + excluded.output_tokens,
                spend = daily_spend.spend + excluded.spend
            )
            SELECT count(*) FROM inserted
            """
        // One statement is one transaction: the rows, the charges and the rollups commit together.
        _ = try await Self.single(Int.self, client.query(query, logger: logger))
    }

    /// The owners a spend row charges, each with the `spend_logs` column naming it: one
    /// `charged_<table>` CTE each, adding the inserted rows' spend per owner. End users are
    /// upserted: one not seen before gets a row, as LiteLLM's spend tracking makes one.
    static let charges: String = {
        let owners: [(owner: BudgetOwner, column: String)] = [
            (.key, "key_hash"), (.team, "team_id"), (.user, "user_id"), (.organization, "org_id"),
        ]
        let updates = owners.map { owner, column in
            let (table, key) = owner.table
            return """
                , charged_\(table) AS (
                  UPDATE \(table) SET spend = \(table).spend + c.amount
                  FROM (SELECT \(column) AS id, sum(spend) AS amount FROM inserted WHERE spend > 0 AND \(column) IS NOT NULL
                        GROUP BY \(column)) c WHERE \(table).\(key) = c.id
                )
                """
        }
        let endUsers = """
            , charged_end_users AS (
              INSERT INTO end_users (user_id, spend, created_at)
              SELECT end_user, sum(spend), max(end_time) / 1000.0 FROM inserted WHERE spend > 0 AND end_user IS NOT NULL
              GROUP BY end_user
              ON CONFLICT (user_id) DO UPDATE SET spend = end_users.spend + excluded.spend
            )
            """
        return updates.joined() + endUsers
    }()

    /// The spend row columns in `unnest`'s argument order.
    static let spendColumns = """
        request_id, trace_id, start_time, end_time, key_hash, key_alias, team_id, user_id, org_id, operation, model, \
        model_group, deployment_id, provider, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, \
        reasoning_tokens, spend, status_code, error_type, usage_estimated, eval_run_id, eval_item_id, attempts, \
        fallback_depth, latency_ms, upstream_latency_ms, overhead_ms, time_to_first_token_ms, tags, end_user
        """

    /// `YYYY-MM-DD` in UTC of `start_time` (milliseconds, truncated to seconds like SQLite's).
    static let dayExpression = "to_char(to_timestamp(start_time / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    static let hourExpression = #"to_char(to_timestamp(start_time / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00Z"')"#

    public func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] {
        try await records(
            SpendRow.self,
            """
            SELECT * FROM spend_logs
            WHERE (\(query.keyHash)::text IS NULL OR key_hash = \(query.keyHash))
              AND (\(query.teamID)::text IS NULL OR team_id = \(query.teamID))
              AND (\(query.userID)::text IS NULL OR user_id = \(query.userID))
              AND (\(query.modelGroup)::text IS NULL OR model_group = \(query.modelGroup))
              AND start_time >= \(query.since ?? Int64.min) AND start_time < \(query.until ?? Int64.max)
            ORDER BY start_time DESC, request_id COLLATE "C"
            LIMIT \(unescaped: Self.limitSQL(query.limit)) OFFSET \(max(0, query.offset))
            """)
    }

    public func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        let expression = grouping.sqlExpression(day: Self.dayExpression)
        // Byte order ("C") for ties, as SQLite compares text.
        let rows = try await client.query(
            """
            SELECT grp, requests, input_tokens, output_tokens, spend FROM (
              SELECT \(unescaped: expression) AS grp, count(*) AS requests, sum(input_tokens)::bigint AS input_tokens,
                sum(output_tokens)::bigint AS output_tokens, sum(spend) AS spend
              FROM spend_logs WHERE start_time >= \(since ?? Int64.min) AND start_time < \(until ?? Int64.max)
              GROUP BY 1) totals
            ORDER BY spend DESC, grp COLLATE "C"
            """, logger: logger)
        var totals: [SpendTotal] = []
        for try await (group, requests, input, output, spend) in rows.decode((String, Int, Int, Int, Double).self) {
            totals.append(SpendTotal(group: group, requests: requests, inputTokens: input, outputTokens: output, spend: spend))
        }
        return totals
    }

    public func teamMemberSpend(teamID: String) async throws -> [String: Double] {
        let rows = try await client.query(
            "SELECT user_id, sum(spend) FROM spend_logs WHERE team_id = \(teamID) AND user_id IS NOT NULL GROUP BY user_id",
            logger: logger)
        var totals: [String: Double] = [:]
        for try await (user, spend) in rows.decode((String, Double).self) { totals[user] = spend }
        return totals
    }

    public func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult {
        let fold = try await accumulate(query.groupBy, since: query.since, until: query.until)
        // Tag grouping repeats a row once per tag; the total counts every row once.
        let overall = query.groupBy.contains(.tag) ? try await accumulate([], since: query.since, until: query.until) : nil
        return fold.result(query, overall: overall)
    }

    /// Reads the window's rows once, in no particular order, into the same fold SQLite uses.
    private func accumulate(_ dimensions: [AnalyticsDimension], since: Int64, until: Int64) async throws -> AnalyticsFold {
        // Expressions come from this closed list, never from the caller's text.
        let keys = dimensions.enumerated().map { index, dimension in "\(Self.expression(dimension)) AS k\(index)" }
        // A row without tags (NULL or `[]`) still appears once, with a NULL tag, as with SQLite's json_each.
        let join =
            dimensions.contains(.tag)
            ? " LEFT JOIN LATERAL jsonb_array_elements_text(spend_logs.tags::jsonb) AS tag(value) ON true" : ""
        let measures = """
            status_code, error_type, fallback_depth, latency_ms, upstream_latency_ms, overhead_ms, \
            time_to_first_token_ms, input_tokens, output_tokens, spend
            """
        let rows = try await client.query(
            """
            SELECT \(unescaped: (keys + [measures]).joined(separator: ", "))
            FROM spend_logs\(unescaped: join) WHERE start_time >= \(since) AND start_time < \(until)
            """, logger: logger)
        var fold = AnalyticsFold()
        for try await row in rows {
            let cells = row.makeRandomAccess()
            fold.add(
                keys: try dimensions.indices.map { try cells["k\($0)"].decode(String?.self) ?? "" },
                statusCode: try cells["status_code"].decode(Int.self), errorType: try cells["error_type"].decode(String?.self),
                fallbackDepth: try cells["fallback_depth"].decode(Int?.self),
                latencyMs: try cells["latency_ms"].decode(Double?.self),
                upstreamLatencyMs: try cells["upstream_latency_ms"].decode(Double?.self),
                overheadMs: try cells["overhead_ms"].decode(Double?.self),
                timeToFirstTokenMs: try cells["time_to_first_token_ms"].decode(Double?.self),
                inputTokens: try cells["input_tokens"].decode(Int.self),
                outputTokens: try cells["output_tokens"].decode(Int.self),
                spend: try cells["spend"].decode(Double.self))
        }
        return fold
    }

    private static func expression(_ dimension: AnalyticsDimension) -> String {
        dimension.sqlExpression(day: dayExpression, hour: hourExpression)
    }

    /// Deletes spend rows that started before `before` (milliseconds since the epoch), a few
    /// thousand per statement so the ledger's writes never wait long behind a large prune. The
    /// daily rollups and the budgets' spend are kept.
    public func pruneSpendLogs(before: Int64) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await Self.single(
                Int.self,
                client.query(
                    """
                    WITH gone AS (
                      DELETE FROM spend_logs WHERE request_id IN
                        (SELECT request_id FROM spend_logs WHERE start_time < \(before) LIMIT \(Self.pruneBatch))
                      RETURNING 1)
                    SELECT count(*) FROM gone
                    """, logger: logger))
            deleted += count
            if count < Self.pruneBatch { return deleted }
        }
    }

    static let pruneBatch = 5000
}
