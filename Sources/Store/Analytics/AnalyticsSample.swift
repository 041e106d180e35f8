/// The columns of one ledger row that analytics reads, whichever store it comes from.
struct AnalyticsSample: Sendable {
    var statusCode: Int
    var errorType: String?
    var fallbackDepth: Int?
    var latencyMs: Double?
    var upstreamLatencyMs: Double?
    var overheadMs: Double?
    var timeToFirstTokenMs: Double?
    var inputTokens: Int
    var outputTokens: Int
    var spend: Double

    var failed: Bool { errorType != nil || statusCode < 200 || statusCode >= 300 }
}
