/// Counts the judge's pairwise verdicts as they arrive, one record per unordered pair of models.
public struct PairwiseTally: Sendable, Equatable {
    /// The run's models, in the order the report shows them.
    public let models: [String]
    private var counts: [Pair: Counts] = [:]

    private struct Pair: Hashable {
        var a: Int
        var b: Int
    }

    private struct Counts: Sendable, Equatable {
        var winsA = 0
        var winsB = 0
        var ties = 0
    }

    public init(models: [String]) {
        self.models = models
    }

    /// Records one comparison of `a`'s answer (the verdict's first) with `b`'s (its second).
    /// The pair is kept in the models' order whichever way round it is given, so `record(a: "y",
    /// b: "x", winner: .first)` counts a win for `y` in the `x`–`y` record. Returns false, counting
    /// nothing, when a model is not one of `models` or both are the same.
    @discardableResult
    public mutating func record(a: String, b: String, winner: JudgeVerdict.Winner) -> Bool {
        guard let first = models.firstIndex(of: a), let second = models.firstIndex(of: b), first != second else {
            return false
        }
        let inOrder = first < second
        let pair = inOrder ? Pair(a: first, b: second) : Pair(a: second, b: first)
        switch inOrder ? winner : winner.swapped {
        case .first: counts[pair, default: Counts()].winsA += 1
        case .second: counts[pair, default: Counts()].winsB += 1
        case .tie: counts[pair, default: Counts()].ties += 1
        }
        return true
    }

    /// One record per pair with at least one verdict, `a` before `b` in the models' order, sorted
    /// by `a`'s position and then `b`'s.
    public var records: [PairwiseRecord] {
        counts.keys.sorted { ($0.a, $0.b) < ($1.a, $1.b) }.compactMap { pair in
            guard let count = counts[pair] else { return nil }
            return PairwiseRecord(
                a: models[pair.a], b: models[pair.b], winsA: count.winsA, winsB: count.winsB, ties: count.ties)
        }
    }
}
