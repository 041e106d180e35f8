/// One observation of a latency histogram, kept to be shown next to its bucket in an OpenMetrics
/// scrape: the trace (and span) it came from, the value observed and when.
struct Exemplar: Sendable, Equatable {
    /// 32 lowercase hex digits.
    var traceID: String
    /// 16 lowercase hex digits.
    var spanID: String
    var value: Double
    /// Seconds since the Unix epoch (OpenMetrics exemplar timestamps are in seconds).
    var timestamp: Double
}
