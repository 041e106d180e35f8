import Evaluations
import Store

extension AnalyticsReport {
    /// One row per group and window (`current`, then `previous` when comparing), plus a `total`
    /// row per window; numbers in their shortest exact form, latencies in milliseconds, empty
    /// where nothing was measured; errors by kind as `kind=count` pairs joined by `;`.
    public func csv() -> String {
        var writer = CSVWriter()
        writer.header(
            ["window", "since", "until"] + (dimensions.isEmpty ? ["group"] : dimensions.map(\.rawValue)) + [
                "requests", "errors", "error_rate", "errors_by_kind", "fallbacks", "latency_p50_ms", "latency_p95_ms",
                "latency_p99_ms", "ttft_p50_ms", "ttft_p95_ms", "overhead_p50_ms", "input_tokens", "output_tokens",
                "spend_usd", "cost_per_million_tokens", "output_tokens_per_second",
            ])
        for (name, result) in [("current", current), ("previous", previous)] {
            guard let result else { continue }
            for group in result.groups {
                writer.row(fields(name, result.query, keys: dimensions.isEmpty ? ["all"] : group.keys, group))
            }
            let totalKeys = ["total"] + Array(repeating: "", count: max(0, dimensions.count - 1))
            writer.row(fields(name, result.query, keys: totalKeys, result.total))
        }
        return writer.output
    }

    private func fields(_ window: String, _ query: AnalyticsQuery, keys: [String], _ group: AnalyticsGroup) -> [CSVWriter.Field] {
        func number(_ value: Double?) -> CSVWriter.Field { value.map { .number(ReportFormat.plain($0)) } ?? .empty }
        let kinds = Self.errorKinds(group).map { "\($0.kind)=\($0.count)" }.joined(separator: ";")
        return [
            .text(window), .text(ReportFormat.utc(Double(query.since) / 1000)),
            .text(ReportFormat.utc(Double(query.until) / 1000)),
        ] + keys.map(CSVWriter.Field.text) + [
            .number(String(group.requests)), .number(String(group.errors)), number(group.errorRate),
            kinds.isEmpty ? .empty : .text(kinds), .number(String(group.fallbacks)), number(group.latencyP50Ms),
            number(group.latencyP95Ms), number(group.latencyP99Ms), number(group.timeToFirstTokenP50Ms),
            number(group.timeToFirstTokenP95Ms), number(group.overheadP50Ms), .number(String(group.inputTokens)),
            .number(String(group.outputTokens)), number(group.spend), number(group.costPerMillionTokens),
            number(group.outputTokensPerSecond),
        ]
    }
}
