/// The groups of one analytics query and the total over the whole window.
public struct AnalyticsResult: Sendable, Equatable {
    public var query: AnalyticsQuery
    public var groups: [AnalyticsGroup]
    /// Over every row in the window once. With `tag` grouping the groups' requests can add up to
    /// more than this (a request with two tags is in two groups); percentiles never add up.
    public var total: AnalyticsGroup

    public init(query: AnalyticsQuery, groups: [AnalyticsGroup], total: AnalyticsGroup) {
        self.query = query
        self.groups = groups
        self.total = total
    }
}
