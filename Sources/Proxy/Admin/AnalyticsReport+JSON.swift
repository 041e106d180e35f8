import Evaluations
import Store
import Telemetry

extension AnalyticsReport {
    /// The report for programs: every group with its keys by dimension name, latencies in
    /// milliseconds (null where nothing was measured), and the previous window's figures beside
    /// each group when comparing.
    public func json() -> JSONValue {
        var object: JSONObject = [
            "window": Self.window(current.query), "group_by": .array(dimensions.map { .string($0.rawValue) }),
            "percentile_method": .string(Self.percentileMethod),
            "groups": .array(
                current.groups.map { group in json(group, previous: self.previous.map { _ in self.previous(of: group) }) }),
            "total": json(current.total, previous: previous.map(\.total)),
        ]
        if let previous {
            object["previous"] = .object([
                "window": Self.window(previous.query), "groups": .array(previous.groups.map { json($0, previous: nil) }),
                "total": json(previous.total, previous: nil),
            ])
        }
        return .object(object)
    }

    static func window(_ query: AnalyticsQuery) -> JSONValue {
        .object([
            "since": .string(ReportFormat.utc(Double(query.since) / 1000)),
            "until": .string(ReportFormat.utc(Double(query.until) / 1000)), "since_ms": .number(String(query.since)),
            "until_ms": .number(String(query.until)),
        ])
    }

    /// `previous` is nil when not comparing, `.some(nil)` when the previous window had no such group.
    private func json(_ group: AnalyticsGroup, previous: AnalyticsGroup??) -> JSONValue {
        func number(_ value: Double?) -> JSONValue { value.flatMap { $0.isFinite ? JSONValue.double($0) : nil } ?? .null }
        var keys: JSONObject = [:]
        for (dimension, key) in zip(dimensions, group.keys) { keys[dimension.rawValue] = .string(key) }
        var errorsByKind: JSONObject = [:]
        for (kind, count) in Self.errorKinds(group) { errorsByKind[kind] = .int(count) }
        var object: JSONObject = [
            "keys": .object(keys), "requests": .int(group.requests), "errors": .int(group.errors),
            "error_rate": .double(group.errorRate), "errors_by_kind": .object(errorsByKind),
            "fallbacks": .int(group.fallbacks),
            "latency_ms": .object([
                "p50": number(group.latencyP50Ms), "p95": number(group.latencyP95Ms), "p99": number(group.latencyP99Ms),
            ]),
            "time_to_first_token_ms": .object([
                "p50": number(group.timeToFirstTokenP50Ms), "p95": number(group.timeToFirstTokenP95Ms),
            ]),
            "overhead_ms": .object(["p50": number(group.overheadP50Ms)]), "input_tokens": .int(group.inputTokens),
            "output_tokens": .int(group.outputTokens), "spend": .double(group.spend),
            "cost_per_million_tokens": number(group.costPerMillionTokens),
            "output_tokens_per_second": number(group.outputTokensPerSecond),
        ]
        if let previous {
            object["previous"] = previous.map { json($0, previous: nil) } ?? .null
        }
        return .object(object)
    }
}
