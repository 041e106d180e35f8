/// What analytics can group ledger rows by. The raw value is how the CLI, the HTTP API and the
/// reports name it.
public enum AnalyticsDimension: String, Sendable, CaseIterable, Equatable {
    case provider
    case modelGroup = "model_group"
    case deployment
    /// The model name the client asked for.
    case model
    case team
    /// The key's alias, or its hash when it has none.
    case keyAlias = "key_alias"
    /// One group per tag: a request with two tags counts in both, one without any in "".
    case tag
    case operation
    /// The UTC day (`2026-11-30`) and hour (`2026-11-30T14:00Z`) the request started.
    case day
    case hour

    /// Time buckets read best in time order; every other grouping reads best largest first.
    public var isTime: Bool { self == .day || self == .hour }
}
