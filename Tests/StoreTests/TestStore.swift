import Foundation
import GRDB
import Logging
import PostgresNIO
import PostgresStore
import Testing

@testable import Store

/// A store under test, with the reads the protocol does not offer.
struct TestStore: Sendable {
    let store: any GatewayStore

    /// Every `daily_spend` row, by day, key, team, model group and provider.
    func rollups() async throws -> [DailyRollup] {
        let columns = "day, key_hash, team_id, model_group, provider, requests, input_tokens, output_tokens, spend"
        let order = #"ORDER BY day, key_hash COLLATE "C", team_id COLLATE "C", model_group COLLATE "C", provider COLLATE "C""#
        if let sqlite = store as? SQLiteStore {
            return try await sqlite.pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT \(columns) FROM daily_spend ORDER BY day, key_hash, team_id, model_group, provider"
                )
                .map {
                    DailyRollup(
                        day: $0["day"], keyHash: $0["key_hash"], teamID: $0["team_id"], modelGroup: $0["model_group"],
                        provider: $0["provider"], requests: $0["requests"], inputTokens: $0["input_tokens"],
                        outputTokens: $0["output_tokens"], spend: $0["spend"])
                }
            }
        }
        let postgres = try #require(store as? PostgresStore)
        var rollups: [DailyRollup] = []
        let rows = try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT \(columns) FROM daily_spend \(order)"))
        for try await (day, key, team, group, provider, requests, input, output, spend) in rows.decode(
            (String, String, String, String, String, Int, Int, Int, Double).self)
        {
            rollups.append(
                DailyRollup(
                    day: day, keyHash: key, teamID: team, modelGroup: group, provider: provider, requests: requests,
                    inputTokens: input, outputTokens: output, spend: spend))
        }
        return rollups
    }

    /// Drops the store's schema and stops its client.
    static func drop(_ store: PostgresStore) async {
        if let schema = store.url.schema {
            _ = try? await store.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        }
        await store.shutdown()
    }
}
