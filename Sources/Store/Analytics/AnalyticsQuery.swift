/// A window of the ledger and how to group it.
public struct AnalyticsQuery: Sendable, Equatable {
    /// Milliseconds since the epoch, inclusive.
    public var since: Int64
    /// Milliseconds since the epoch, exclusive.
    public var until: Int64
    /// Empty: one group over the whole window.
    public var groupBy: [AnalyticsDimension]

    public init(since: Int64, until: Int64, groupBy: [AnalyticsDimension] = []) {
        self.since = since
        self.until = until
        self.groupBy = groupBy
    }
}
