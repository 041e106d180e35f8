/// Puts dictionary-held results in a stable order, so every view of a report lists them the same
/// way on every run (Swift's `Dictionary` order changes from process to process).
enum ReportOrder {
    /// The entries of `values` whose keys are in `order`, in that order, then any others by key.
    static func keyed(_ values: [String: Double], by order: [String]) -> [(key: String, value: Double)] {
        var out: [(key: String, value: Double)] = []
        for key in order {
            if let value = values[key] { out.append((key, value)) }
        }
        let known = Set(order)
        for key in values.keys.sorted() where !known.contains(key) {
            if let value = values[key] { out.append((key, value)) }
        }
        return out
    }

    /// Error kinds, most frequent first, then by name.
    static func errors(_ errors: [String: Int]) -> [(kind: String, count: Int)] {
        errors.filter { $0.value > 0 }.map { (kind: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.kind < $1.kind }
    }

    /// `rate_limit_exceeded×2 api_error×1`, or `-` for none.
    static func compactErrors(_ errors: [String: Int]) -> String {
        let sorted = Self.errors(errors)
        return sorted.isEmpty ? "-" : sorted.map { "\($0.kind)×\($0.count)" }.joined(separator: " ")
    }
}
