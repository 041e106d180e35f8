import GRDB

extension SQLiteStore: DailySpendReplacing {
    public func replaceDailySpend(_ totals: [DailySpendTotal]) async throws {
        guard !totals.isEmpty else { return }
        try await pool.write { db in
            let upsert = try db.makeStatement(
                sql: """
                    INSERT INTO daily_spend (day, key_hash, team_id, model_group, provider, requests, input_tokens,
                      output_tokens, spend)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (day, key_hash, team_id, model_group, provider) DO UPDATE SET
                      requests = MAX(requests, excluded.requests), input_tokens = MAX(input_tokens, excluded.input_tokens),
                      output_tokens = MAX(output_tokens, excluded.output_tokens), spend = MAX(spend, excluded.spend)
                    """)
            for total in totals {
                try upsert.execute(arguments: [
                    total.day, total.keyHash, total.teamID, total.modelGroup, total.provider, total.requests,
                    total.inputTokens, total.outputTokens, total.spend,
                ])
            }
        }
    }
}
