import GRDB
import Telemetry

extension SQLiteStore {
    public func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult {
        try await pool.read { db in
            let (groups, total) = try Self.accumulate(db, query.groupBy, since: query.since, until: query.until)
            // Tag grouping repeats a row once per tag; the total counts every row once.
            let overall =
                query.groupBy.contains(.tag)
                ? try Self.accumulate(db, [], since: query.since, until: query.until).total : total
            return AnalyticsResult(
                query: query,
                groups: AnalyticsAccumulator.ordered(
                    groups.map { $0.value.group(keys: $0.key) }, by: query.groupBy),
                total: overall.group(keys: []))
        }
    }

    /// Reads the window's rows once, in no particular order, folding each into its group and the total.
    private static func accumulate(
        _ db: Database, _ dimensions: [AnalyticsDimension], since: Int64, until: Int64
    ) throws -> (groups: [[String]: AnalyticsAccumulator], total: AnalyticsAccumulator) {
        // Expressions come from this closed list, never from the caller's text.
        let keys = dimensions.enumerated().map { index, dimension in "\(expression(dimension)) AS k\(index)" }
        let join = dimensions.contains(.tag) ? " LEFT JOIN json_each(spend_logs.tags) AS tag" : ""
        let sql = """
            SELECT \((keys + measures).joined(separator: ", "))
            FROM spend_logs\(join) WHERE start_time >= ? AND start_time < ?
            """
        var groups: [[String]: AnalyticsAccumulator] = [:]
        var total = AnalyticsAccumulator()
        let rows = try Row.fetchCursor(db, sql: sql, arguments: [since, until])
        while let row = try rows.next() {
            let sample = AnalyticsSample(
                statusCode: row["status_code"], errorType: row["error_type"], fallbackDepth: row["fallback_depth"],
                latencyMs: row["latency_ms"], upstreamLatencyMs: row["upstream_latency_ms"], overheadMs: row["overhead_ms"],
                timeToFirstTokenMs: row["time_to_first_token_ms"], inputTokens: row["input_tokens"],
                outputTokens: row["output_tokens"], spend: row["spend"])
            let key = dimensions.indices.map { index -> String in row["k\(index)"] ?? "" }
            groups[key, default: AnalyticsAccumulator()].add(sample)
            total.add(sample)
        }
        return (groups, total)
    }

    private static let measures = [
        "status_code", "error_type", "fallback_depth", "latency_ms", "upstream_latency_ms", "overhead_ms",
        "time_to_first_token_ms", "input_tokens", "output_tokens", "spend",
    ]

    private static func expression(_ dimension: AnalyticsDimension) -> String {
        dimension.sqlExpression(
            day: "strftime('%Y-%m-%d', start_time / 1000, 'unixepoch')",
            hour: "strftime('%Y-%m-%dT%H:00Z', start_time / 1000, 'unixepoch')")
    }

    /// Deletes spend rows that started before `before` (milliseconds since the epoch), a few
    /// thousand per transaction so the ledger's writes never wait long behind a large prune. The
    /// daily rollups (`daily_spend`) and the budgets' spend are kept.
    public func pruneSpendLogs(before: Int64) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await pool.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM spend_logs WHERE rowid IN
                          (SELECT rowid FROM spend_logs WHERE start_time < ? LIMIT \(Self.pruneBatch))
                        """,
                    arguments: [before])
                return db.changesCount
            }
            deleted += count
            if count < Self.pruneBatch { return deleted }
        }
    }

    static let pruneBatch = 5000

    /// NaN and infinities are not measurements; SQLite would store NaN as NULL anyway.
    static func finite(_ value: Double?) -> Double? {
        value.flatMap { $0.isFinite ? $0 : nil }
    }

    /// Text as a JSON array of strings, the form `json_each` reads.
    static func jsonArray(_ values: [String]) -> String {
        String(decoding: JSONValue.array(values.map(JSONValue.string)).encoded(), as: UTF8.self)
    }
}
