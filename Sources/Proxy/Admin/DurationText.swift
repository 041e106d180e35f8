/// LiteLLM's durations: `30s`, `15m`, `1h`, `1d`, `30d`, `1mo` (30 days). Used for key expiry and
/// budget periods.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("mo", 2_592_000), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let count = Int(text.dropLast(suffix.count)), count > 0 else { return nil }
            return Double(count) * scale
        }
        return nil
    }
}
