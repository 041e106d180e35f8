import Store

/// One analytics report: the window asked for and, with `compare`, the window of equal length just
/// before it. Every view (table, JSON, CSV, HTML) renders from this.
public struct AnalyticsReport: Sendable, Equatable {
    public var current: AnalyticsResult
    public var previous: AnalyticsResult?

    public init(current: AnalyticsResult, previous: AnalyticsResult? = nil) {
        self.current = current
        self.previous = previous
    }

    /// Asks the store for the window (and the previous one).
    public static func run(_ request: AnalyticsRequest, store: any GatewayStore) async throws -> AnalyticsReport {
        let query = request.query
        let current = try await store.analytics(query)
        guard request.compare else { return AnalyticsReport(current: current) }
        let length = query.until - query.since
        var earlier = query
        earlier.since = query.since - length
        earlier.until = query.since
        return AnalyticsReport(current: current, previous: try await store.analytics(earlier))
    }

    public var dimensions: [AnalyticsDimension] { current.query.groupBy }

    /// The previous window's group with the same keys.
    public func previous(of group: AnalyticsGroup) -> AnalyticsGroup? {
        previous?.groups.first { $0.keys == group.keys }
    }

    /// A group's name for people: its keys joined, `(none)` for an empty key, `all` without grouping.
    public static func label(_ keys: [String]) -> String {
        keys.isEmpty ? "all" : keys.map { $0.isEmpty ? "(none)" : $0 }.joined(separator: " · ")
    }

    /// Error kinds, most frequent first, then by name.
    public static func errorKinds(_ group: AnalyticsGroup) -> [(kind: String, count: Int)] {
        group.errorsByKind.map { (kind: $0.key, count: $0.value) }.sorted {
            $0.count != $1.count ? $0.count > $1.count : $0.kind < $1.kind
        }
    }

    /// How the percentiles are computed, for every view to state.
    public static let percentileMethod =
        "exact over the window's raw ledger rows; linear interpolation between closest ranks "
        + "(Hyndman & Fan type 7, numpy's default): h = (n − 1)·p"
}
