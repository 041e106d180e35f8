import Store

/// An analytics question as the CLI and `GET /spanway/analytics` ask it: a window, a grouping and
/// whether to compare with the window before. Parsed in one place so both read the same words.
public struct AnalyticsRequest: Sendable, Equatable {
    public var query: AnalyticsQuery
    /// Also report the previous window of equal length (`[since − length, since)`).
    public var compare: Bool

    public init(query: AnalyticsQuery, compare: Bool = false) {
        self.query = query
        self.compare = compare
    }

    /// The window when none is named.
    public static let defaultWindowSeconds: Double = 86_400

    /// `since` and `until` are dates (`2026-11-01`, a whole UTC day), ISO 8601 times, or (for
    /// `since`) a duration back from `until`; `window` is a duration ending at `until` (default now).
    /// `groupBy` is a comma list of `AnalyticsDimension` names. `now` is Unix seconds.
    public static func parse(
        since: String?, until: String?, window: String?, groupBy: String?, compare: Bool, now: Double
    ) throws(GatewayError) -> AnalyticsRequest {
        let end = try until.map { text throws(GatewayError) in try SpendReports.millis(text, "until", endOfDay: true) }
        let untilMillis = end ?? Int64((now * 1000).rounded(.down))
        let start: Int64
        switch (since, window) {
        case (.some, .some):
            throw .invalidRequest("Give 'since' or 'window', not both.", param: "window")
        case (nil, let window?):
            start = untilMillis - (try millis(ofDuration: window, "window"))
        case (let since?, nil):
            if DurationText.seconds(since) != nil {
                start = untilMillis - (try millis(ofDuration: since, "since"))
            } else {
                start = try SpendReports.millis(since, "since", endOfDay: false)
            }
        case (nil, nil):
            start = untilMillis - Int64(defaultWindowSeconds * 1000)
        }
        guard start < untilMillis else { throw .invalidRequest("'since' must be before 'until'.", param: "since") }
        return AnalyticsRequest(
            query: AnalyticsQuery(since: start, until: untilMillis, groupBy: try dimensions(groupBy)), compare: compare)
    }

    /// `provider,model_group` → the dimensions, in order, each once.
    public static func dimensions(_ text: String?) throws(GatewayError) -> [AnalyticsDimension] {
        guard let text, !text.isEmpty else { return [] }
        var dimensions: [AnalyticsDimension] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let dimension = AnalyticsDimension(rawValue: name) else {
                let names = AnalyticsDimension.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidRequest("'group_by' names '\(name)'; known: \(names).", param: "group_by")
            }
            if !dimensions.contains(dimension) { dimensions.append(dimension) }
        }
        return dimensions
    }

    private static func millis(ofDuration text: String, _ name: String) throws(GatewayError) -> Int64 {
        guard let seconds = DurationText.seconds(text) else {
            throw .invalidRequest("'\(name)' must be a duration like 24h, 7d or 30m.", param: name)
        }
        return Int64(seconds * 1000)
    }
}
