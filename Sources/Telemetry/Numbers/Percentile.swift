/// Percentiles by linear interpolation between closest ranks: with the values sorted as
/// x₀ ≤ … ≤ xₙ₋₁ and h = (n − 1)·p, the p-quantile is x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
/// This is Hyndman & Fan's definition 7 (https://doi.org/10.2307/2684934), the default of numpy's
/// `percentile`, R's `quantile` and Excel's PERCENTILE.INC — the same definition the evaluation
/// report uses, so a latency p95 means the same thing in every Spanway report.
public enum Percentile {
    /// The `p`-quantile (`p` in 0…1) of `values`; values that are not finite are ignored. Nil when
    /// there are no finite values or `p` is outside 0…1.
    public static func of(_ values: [Double], _ p: Double) -> Double? {
        of(sorted: values.filter(\.isFinite).sorted(), p)
    }

    /// The same over values already sorted ascending and finite (several percentiles of one
    /// column sort it once).
    public static func of(sorted: [Double], _ p: Double) -> Double? {
        guard p >= 0, p <= 1, let first = sorted.first else { return nil }
        if sorted.count == 1 { return first }
        let h = Double(sorted.count - 1) * p
        let lower = Int(h.rounded(.down))
        guard lower + 1 < sorted.count else { return sorted[sorted.count - 1] }
        return sorted[lower] + (h - Double(lower)) * (sorted[lower + 1] - sorted[lower])
    }
}
