import Telemetry

/// Folds ledger rows into an `AnalyticsGroup`. Percentiles need every value, so the latencies are
/// kept (8 bytes per request and column in the window) and sorted once at the end: exact, where
/// a sketch (t-digest, HDR histogram) would be approximate and a SQL backend's built-in
/// percentile function differs between databases.
struct AnalyticsAccumulator {
    private var requests = 0
    private var errors = 0
    private var errorsByKind: [String: Int] = [:]
    private var fallbacks = 0
    private var latencies: [Double] = []
    private var timesToFirstToken: [Double] = []
    private var overheads: [Double] = []
    private var inputTokens = 0
    private var outputTokens = 0
    private var spend = 0.0
    private var generatedTokens = 0
    private var generationMs = 0.0

    mutating func add(_ sample: AnalyticsSample) {
        requests += 1
        inputTokens += sample.inputTokens
        outputTokens += sample.outputTokens
        spend += sample.spend
        if (sample.fallbackDepth ?? 0) > 0 { fallbacks += 1 }
        if let value = sample.latencyMs, value.isFinite { latencies.append(value) }
        if let value = sample.timeToFirstTokenMs, value.isFinite { timesToFirstToken.append(value) }
        if let value = sample.overheadMs, value.isFinite { overheads.append(value) }
        if sample.failed {
            errors += 1
            errorsByKind[sample.errorType ?? "http_\(sample.statusCode)", default: 0] += 1
        } else if sample.outputTokens > 0, let upstream = sample.upstreamLatencyMs {
            let generation = upstream - (sample.timeToFirstTokenMs ?? 0)
            if generation.isFinite, generation > 0 {
                generatedTokens += sample.outputTokens
                generationMs += generation
            }
        }
    }

    func group(keys: [String]) -> AnalyticsGroup {
        let latencies = latencies.sorted()
        let timesToFirstToken = timesToFirstToken.sorted()
        return AnalyticsGroup(
            keys: keys, requests: requests, errors: errors, errorsByKind: errorsByKind, fallbacks: fallbacks,
            latencyP50Ms: Percentile.of(sorted: latencies, 0.5), latencyP95Ms: Percentile.of(sorted: latencies, 0.95),
            latencyP99Ms: Percentile.of(sorted: latencies, 0.99),
            timeToFirstTokenP50Ms: Percentile.of(sorted: timesToFirstToken, 0.5),
            timeToFirstTokenP95Ms: Percentile.of(sorted: timesToFirstToken, 0.95),
            overheadP50Ms: Percentile.of(sorted: overheads.sorted(), 0.5), inputTokens: inputTokens,
            outputTokens: outputTokens, spend: spend,
            outputTokensPerSecond: generationMs > 0 ? Double(generatedTokens) / (generationMs / 1000) : nil)
    }

    /// Groups in reading order: by time when the first dimension is a time bucket, otherwise
    /// largest spend first, then most requests, then by name.
    static func ordered(_ groups: [AnalyticsGroup], by dimensions: [AnalyticsDimension]) -> [AnalyticsGroup] {
        if dimensions.first?.isTime == true {
            return groups.sorted { $0.keys.lexicographicallyPrecedes($1.keys) }
        }
        return groups.sorted { a, b in
            if a.spend != b.spend { return a.spend > b.spend }
            if a.requests != b.requests { return a.requests > b.requests }
            return a.keys.lexicographicallyPrecedes(b.keys)
        }
    }
}
