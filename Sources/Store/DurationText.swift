/// LiteLLM's durations: `30s`, `15m`, `1h`, `1d`, `30d`, `1mo` (30 days). Used for key expiry and
/// budget periods.
public enum DurationText {
    /// A hundred years of 365 days.
    public static let maximumSeconds: Double = 100 * 365 * 86_400

    public static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("mo", 2_592_000), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let count = Int(text.dropLast(suffix.count)), count > 0 else { return nil }
            // At most a century: larger values come from typos or probes, and dates that far out
            // break formatting and arithmetic downstream.
            guard Double(count) * scale <= maximumSeconds else { return nil }
            return Double(count) * scale
        }
        return nil
    }
}
