import PostgresNIO
import Store

extension PostgresStore: DailySpendReplacing {
    /// One statement (so one transaction), the totals bound as one array per column.
    public func replaceDailySpend(_ totals: [DailySpendTotal]) async throws {
        guard !totals.isEmpty else { return }
        let query: PostgresQuery = """
            INSERT INTO daily_spend (day, key_hash, team_id, model_group, provider, requests, input_tokens,
              output_tokens, spend)
            SELECT * FROM unnest(\(totals.map(\.day))::text[], \(totals.map(\.keyHash))::text[],
              \(totals.map(\.teamID))::text[], \(totals.map(\.modelGroup))::text[], \(totals.map(\.provider))::text[],
              \(totals.map { Int64($0.requests) })::bigint[], \(totals.map { Int64($0.inputTokens) })::bigint[],
              \(totals.map { Int64($0.outputTokens) })::bigint[], \(totals.map(\.spend))::double precision[])
            ON CONFLICT (day, key_hash, team_id, model_group, provider) DO UPDATE SET
              requests = GREATEST(daily_spend.requests, excluded.requests),
              input_tokens = GREATEST(daily_spend.input_tokens, excluded.input_tokens),
              output_tokens = GREATEST(daily_spend.output_tokens, excluded.output_tokens),
              spend = GREATEST(daily_spend.spend, excluded.spend)
            """
        try await client.query(query, logger: logger)
    }
}
