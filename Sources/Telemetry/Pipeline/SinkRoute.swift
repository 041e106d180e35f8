/// Which finished requests one sink receives: a `match` on team, key alias, model group and
/// outcome, and whether it is a default destination (which teams may opt out of).
public struct SinkRoute: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        case any
        case success
        case failure
    }

    /// Nil matches every team (and requests without one).
    public var teams: Set<String>?
    public var keyAliases: Set<String>?
    public var modelGroups: Set<String>?
    public var outcome: Outcome
    /// A default destination receives every matching request except those of teams that keep
    /// their traces to their own destinations (`RequestSummary.teamDestinationsOnly`).
    public var isDefault: Bool

    public init(
        teams: Set<String>? = nil, keyAliases: Set<String>? = nil, modelGroups: Set<String>? = nil,
        outcome: Outcome = .any, isDefault: Bool = true
    ) {
        self.teams = teams
        self.keyAliases = keyAliases
        self.modelGroups = modelGroups
        self.outcome = outcome
        self.isDefault = isDefault
    }

    /// Everything, as a default destination.
    public static let everything = SinkRoute()

    /// Only `team`'s requests: a team's own destination, which its opt-out never silences.
    public static func team(_ id: String, outcome: Outcome = .any) -> SinkRoute {
        SinkRoute(teams: [id], outcome: outcome, isDefault: false)
    }

    public func matches(_ request: FinishedSpan) -> Bool {
        let summary = request.summary
        if isDefault && summary.teamDestinationsOnly { return false }
        // An evaluation's item trace is no request: it goes with the successes (the scores of
        // every call), never to failure-only sinks.
        let succeeded = summary.succeeded || request.kind == .evaluation
        switch outcome {
        case .any: break
        case .success: guard succeeded else { return false }
        case .failure: guard !succeeded else { return false }
        }
        if let teams, !summary.caller.teamID.map(teams.contains).orFalse { return false }
        if let keyAliases, !summary.caller.keyAlias.map(keyAliases.contains).orFalse { return false }
        if let modelGroups, !summary.modelGroup.map(modelGroups.contains).orFalse { return false }
        return true
    }
}

extension Optional<Bool> {
    fileprivate var orFalse: Bool { self ?? false }
}
