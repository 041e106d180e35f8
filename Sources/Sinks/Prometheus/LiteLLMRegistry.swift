/// The series of LiteLLM's metrics, rendered as Python's `prometheus_client` renders them in the
/// text format 0.0.4 (https://github.com/prometheus/client_python, `exposition.py`), which is what
/// LiteLLM serves: a counter `x` is exposed as `x_total`, and each counter and histogram series
/// also has a `x_created` sample (its creation time, Unix seconds) in a gauge family of its own
/// after the family's samples. swift-prometheus writes neither the `_created` samples nor Python's
/// number spellings, hence this small registry.
///
/// A value type; `LiteLLMMetrics` keeps it behind its lock.
struct LiteLLMRegistry: Sendable {
    struct Series: Sendable {
        var value = 0.0
        /// Histograms only: observations per bucket (not cumulative), then above the last bound.
        var bucketCounts: [Double] = []
        var count = 0.0
        var created: Double
    }

    struct Family: Sendable {
        var series: [[String]: Series] = [:]
        /// Label values in the order the series were made, so that a scrape reads in a stable order.
        var order: [[String]] = []
    }

    private var families: [Family]
    /// The time a new series is stamped with (`_created`), Unix seconds.
    private let now: @Sendable () -> Double

    init(now: @escaping @Sendable () -> Double) {
        families = LiteLLMMetric.allCases.map { _ in Family() }
        self.now = now
    }

    private mutating func update(_ metric: LiteLLMMetric, _ labels: [String], _ change: (inout Series) -> Void) {
        let now = self.now
        families[metric.rawValue].update(labels) {
            let buckets = metric.kind == .histogram ? LiteLLMMetric.latencyBuckets.count + 1 : 0
            return Series(bucketCounts: Array(repeating: 0, count: buckets), created: now())
        } change: {
            change(&$0)
        }
    }

    mutating func increment(_ metric: LiteLLMMetric, _ labels: [String], by amount: Double = 1) {
        update(metric, labels) { $0.value += amount }
    }

    mutating func set(_ metric: LiteLLMMetric, _ labels: [String], to value: Double) {
        update(metric, labels) { $0.value = value }
    }

    mutating func observe(_ metric: LiteLLMMetric, _ labels: [String], _ value: Double) {
        let index = LiteLLMMetric.latencyBuckets.firstIndex { value <= $0 } ?? LiteLLMMetric.latencyBuckets.count
        update(metric, labels) { series in
            series.bucketCounts[index] += 1
            series.count += 1
            series.value += value
        }
    }

    /// Drops every series of a gauge that is rebuilt at each scrape (budgets of deleted keys go).
    mutating func clear(_ metric: LiteLLMMetric) {
        families[metric.rawValue] = Family()
    }

    /// The exposition. `created`: with the `_created` gauges (the text format); OpenMetrics has
    /// `_created` samples of its own kind, so they are left out there.
    func render(created: Bool) -> String {
        var out = ""
        for metric in LiteLLMMetric.allCases {
            let family = families[metric.rawValue]
            let help = Self.escapeHelp(metric.help)
            let base = metric.name.hasSuffix("_total") ? String(metric.name.dropLast(6)) : metric.name
            let shown = metric.kind == .counter ? base + "_total" : base
            let type =
                switch metric.kind {
                case .counter: "counter"
                case .gauge: "gauge"
                case .histogram: "histogram"
                }
            out += "# HELP \(shown) \(help)\n# TYPE \(shown) \(type)\n"
            let names = metric.labelNames
            for labels in family.order {
                guard let series = family.series[labels] else { continue }
                let pairs = Array(zip(names, labels))
                switch metric.kind {
                case .counter, .gauge:
                    out += Self.sample(shown, pairs, series.value)
                case .histogram:
                    var cumulative = 0.0
                    for (index, bound) in LiteLLMMetric.latencyBuckets.enumerated() {
                        cumulative += series.bucketCounts[index]
                        out += Self.sample(base + "_bucket", pairs + [("le", Self.number(bound))], cumulative)
                    }
                    out += Self.sample(base + "_bucket", pairs + [("le", "+Inf")], series.count)
                    out += Self.sample(base + "_count", pairs, series.count)
                    out += Self.sample(base + "_sum", pairs, series.value)
                }
            }
            guard created, metric.kind != .gauge, !family.order.isEmpty else { continue }
            out += "# HELP \(base)_created \(help)\n# TYPE \(base)_created gauge\n"
            for labels in family.order {
                guard let series = family.series[labels] else { continue }
                out += Self.sample(base + "_created", Array(zip(names, labels)), series.created)
            }
        }
        return out
    }

    private static func sample(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        guard !labels.isEmpty else { return "\(name) \(number(value))\n" }
        let text = labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
        return "\(name){\(text)} \(number(value))\n"
    }

    /// A label value as the text format escapes it: backslash, double quote and line feed.
    /// Read by Unicode scalar: "\r\n" is one `Character`, equal to neither, and a raw line break
    /// from a client's `user` or `model` would break every later scrape.
    static func escapeLabel(_ value: String) -> String {
        // Each of the four is one byte in UTF-8 and never part of a longer sequence.
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return value }
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": break
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// HELP text escapes only backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    /// A number as `prometheus_client` writes it (`floatToGoString`): Python's `repr` of the float
    /// (`1.0`, `0.005`), `+Inf`/`-Inf`/`NaN`, and a positive number with more than six digits
    /// before its point in Go's exponent form (`1.764e+09`).
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        // Swift's shortest round-trip spelling is Python's `repr` (`0.005`, `1e-05`, `1e+16`).
        var text = value.description
        if !text.contains(".") && !text.contains("e") { text += ".0" }
        guard value > 0, let dot = text.firstIndex(of: "."), !text.contains("e") else { return text }
        let whole = text.distance(from: text.startIndex, to: dot)
        guard whole > 6 else { return text }
        let digits = text.replacing(".", with: "")
        var mantissa = String(digits.prefix(1)) + "." + String(digits.dropFirst())
        while mantissa.hasSuffix("0") || mantissa.hasSuffix(".") { mantissa.removeLast() }
        return "\(mantissa)e+0\(whole - 1)"
    }
}

extension LiteLLMRegistry.Family {
    fileprivate mutating func update(
        _ labels: [String], make: () -> LiteLLMRegistry.Series, change: (inout LiteLLMRegistry.Series) -> Void
    ) {
        if series[labels] == nil {
            series[labels] = make()
            order.append(labels)
        }
        change(&series[labels, default: make()])
    }
}
