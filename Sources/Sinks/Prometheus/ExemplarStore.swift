import Synchronization

/// The latest exemplar of each bucket of each histogram series. swift-prometheus keeps none, so
/// the sink keeps them here: one slot per bucket of a series that exists anyway, so memory grows
/// with the (bounded) series, never with the requests.
final class ExemplarStore: Sendable {
    /// A series as the exposition names it: its family and labels (`le` aside).
    struct Series: Hashable {
        var family: String
        var labels: [String: String]
    }

    /// One series' buckets: their upper bounds, and an exemplar slot for each, then one for +Inf.
    struct Buckets: Sendable {
        var upperBounds: [Double]
        var exemplars: [Exemplar?]

        func exemplar(upperBound: Double) -> Exemplar? {
            let index = upperBound == .infinity ? upperBounds.count : upperBounds.firstIndex(of: upperBound)
            return index.flatMap { exemplars[$0] }
        }
    }

    private struct Entry {
        var series: Series
        var buckets: Buckets
    }

    /// By the sink's own series key, so that recording builds no dictionary.
    private let table = Mutex<[PrometheusSink.SeriesKey: Entry]>([:])

    /// Keeps `exemplar` as the latest of the bucket its value falls in: the first whose upper
    /// bound is at least the value (buckets are `(previous, bound]`), else +Inf. `family` is
    /// evaluated only the first time the series is seen.
    func keep(
        _ exemplar: Exemplar, key: PrometheusSink.SeriesKey, family: () -> String, labels: [(String, String)],
        buckets: [Double]
    ) {
        let index = buckets.firstIndex { exemplar.value <= $0 } ?? buckets.count
        table.withLock { table in
            if table[key] == nil {
                table[key] = Entry(
                    series: Series(family: family(), labels: Dictionary(labels, uniquingKeysWith: { $1 })),
                    buckets: Buckets(upperBounds: buckets, exemplars: Array(repeating: nil, count: buckets.count + 1)))
            }
            table[key]?.buckets.exemplars[index] = exemplar
        }
    }

    /// Every series' buckets as of now, for one rendering.
    func snapshot() -> [Series: Buckets] {
        table.withLock { table in
            Dictionary(table.values.map { ($0.series, $0.buckets) }, uniquingKeysWith: { $1 })
        }
    }

    /// Exemplars held, across every series and bucket.
    var count: Int { table.withLock { $0.values.reduce(0) { $0 + $1.buckets.exemplars.count { $0 != nil } } } }
}
