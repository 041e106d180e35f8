/// What analytics reports about one group of ledger rows. Latencies are in milliseconds;
/// percentiles are exact over the group's rows (`Percentile`, linear interpolation) and nil when
/// no row of the group measured that value (rows written before the ledger recorded latency, or
/// no streamed request for time to first token).
public struct AnalyticsGroup: Sendable, Equatable {
    /// One value per grouping dimension, in the query's order; "" where a row has none.
    public var keys: [String]
    public var requests: Int
    /// Requests that did not end well: a status outside 2xx, or an error type (an interrupted
    /// stream can have sent 200 before it failed).
    public var errors: Int
    /// Errors by kind: the error type, or `http_<status>` when the row names none.
    public var errorsByKind: [String: Int]
    /// Requests a fallback group answered (or last tried).
    public var fallbacks: Int
    public var latencyP50Ms: Double?
    public var latencyP95Ms: Double?
    public var latencyP99Ms: Double?
    public var timeToFirstTokenP50Ms: Double?
    public var timeToFirstTokenP95Ms: Double?
    public var overheadP50Ms: Double?
    public var inputTokens: Int
    public var outputTokens: Int
    public var spend: Double
    /// Σ output tokens ÷ Σ generation time over the successful requests that produced output and
    /// whose generation time is known and positive; generation time is the upstream time minus
    /// the time to the first token (all of the upstream time when not streamed). A ratio of sums,
    /// so long answers weigh more than short ones, like a throughput measured at the provider.
    public var outputTokensPerSecond: Double?

    public init(
        keys: [String], requests: Int = 0, errors: Int = 0, errorsByKind: [String: Int] = [:], fallbacks: Int = 0,
        latencyP50Ms: Double? = nil, latencyP95Ms: Double? = nil, latencyP99Ms: Double? = nil,
        timeToFirstTokenP50Ms: Double? = nil, timeToFirstTokenP95Ms: Double? = nil, overheadP50Ms: Double? = nil,
        inputTokens: Int = 0, outputTokens: Int = 0, spend: Double = 0, outputTokensPerSecond: Double? = nil
    ) {
        self.keys = keys
        self.requests = requests
        self.errors = errors
        self.errorsByKind = errorsByKind
        self.fallbacks = fallbacks
        self.latencyP50Ms = latencyP50Ms
        self.latencyP95Ms = latencyP95Ms
        self.latencyP99Ms = latencyP99Ms
        self.timeToFirstTokenP50Ms = timeToFirstTokenP50Ms
        self.timeToFirstTokenP95Ms = timeToFirstTokenP95Ms
        self.overheadP50Ms = overheadP50Ms
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.spend = spend
        self.outputTokensPerSecond = outputTokensPerSecond
    }

    /// Errors ÷ requests; 0 for an empty group.
    public var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }

    /// USD per million tokens (input and output together); nil when the group used none.
    public var costPerMillionTokens: Double? {
        let tokens = inputTokens + outputTokens
        return tokens == 0 ? nil : spend / Double(tokens) * 1_000_000
    }
}
