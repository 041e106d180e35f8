/// Folds ledger rows read by a store outside this module (PostgreSQL) into an `AnalyticsResult`,
/// through the same accumulator as SQLite, so every backend gives the same groups, order and
/// exact percentiles.
public struct AnalyticsFold: Sendable {
    private var groups: [[String]: AnalyticsAccumulator] = [:]
    private var total = AnalyticsAccumulator()

    public init() {}

    /// One row of the window; `keys` holds one value per grouping dimension ("" where the row has none).
    public mutating func add(
        keys: [String], statusCode: Int, errorType: String?, fallbackDepth: Int?, latencyMs: Double?,
        upstreamLatencyMs: Double?, overheadMs: Double?, timeToFirstTokenMs: Double?, inputTokens: Int,
        outputTokens: Int, spend: Double
    ) {
        let sample = AnalyticsSample(
            statusCode: statusCode, errorType: errorType, fallbackDepth: fallbackDepth, latencyMs: latencyMs,
            upstreamLatencyMs: upstreamLatencyMs, overheadMs: overheadMs, timeToFirstTokenMs: timeToFirstTokenMs,
            inputTokens: inputTokens, outputTokens: outputTokens, spend: spend)
        groups[keys, default: AnalyticsAccumulator()].add(sample)
        total.add(sample)
    }

    /// The groups in reading order; the total is `overall`'s when given (tag grouping counts a row
    /// once per tag, so its own total would count some rows twice).
    public func result(_ query: AnalyticsQuery, overall: AnalyticsFold? = nil) -> AnalyticsResult {
        AnalyticsResult(
            query: query,
            groups: AnalyticsAccumulator.ordered(groups.map { $0.value.group(keys: $0.key) }, by: query.groupBy),
            total: (overall ?? self).total.group(keys: []))
    }
}
