/// A strict reader of OpenMetrics text 1.0.0
/// (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md), for checks on
/// what `/metrics` renders when asked for it. Beyond each line's syntax it checks what the
/// specification asks of the whole: `# EOF` last and once, no blank lines or other comments,
/// metadata before samples, each family's lines together, counter samples ending in `_total`,
/// histogram buckets ascending and cumulative up to a `+Inf` equal to `_count`, exemplars only on
/// `_total` and `_bucket` samples, within their bucket and at most 128 characters of labels.
public struct OpenMetricsExposition: Sendable {
    public struct Exemplar: Sendable, Equatable {
        public var labels: [String: String]
        public var value: Double
        public var timestamp: Double?
    }

    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
        public var exemplar: Exemplar?
    }

    public typealias Problem = MetricsExposition.Problem

    /// `# TYPE` of each family (family names: a counter's has no `_total`).
    public private(set) var types: [String: String] = [:]
    public private(set) var help: [String: String] = [:]
    public private(set) var samples: [Sample] = []

    static let knownTypes: Set = ["counter", "gauge", "histogram", "gaugehistogram", "stateset", "info", "summary", "unknown"]

    public init(_ text: String) throws(Problem) {
        guard text.hasSuffix("# EOF\n") || text.hasSuffix("# EOF") else {
            throw .malformed(line: 0, text: String(text.suffix(20)), reason: "does not end with # EOF")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        var closed = Set<String>()
        var current: String?
        var seen = Set<String>()
        for (index, line) in lines.enumerated() {
            func fail(_ reason: String) -> Problem { .malformed(line: index + 1, text: String(line), reason: reason) }
            if line == "# EOF" {
                guard index == lines.count - 1 else { throw fail("# EOF before the end") }
                break
            }
            guard !line.isEmpty else { throw fail("a blank line") }
            // Each family's lines come together: a family seen before another cannot come back.
            func enter(_ family: String) throws(Problem) {
                guard current != family else { return }
                guard !closed.contains(family) else { throw fail("family \(family) interleaved with another") }
                if let current { closed.insert(current) }
                current = family
            }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", ["TYPE", "HELP", "UNIT"].contains(parts[1]) else {
                    throw fail("a comment other than TYPE, HELP, UNIT or EOF")
                }
                let family = String(parts[2])
                guard MetricsExposition.isMetricName(family) else { throw fail("not a family name") }
                try enter(family)
                guard !samples.contains(where: { Self.family(of: $0.name, types: types) == family }) else {
                    throw fail("metadata after the family's samples")
                }
                let rest = parts.count > 3 ? String(parts[3]) : ""
                switch parts[1] {
                case "TYPE":
                    guard types[family] == nil else { throw fail("a second TYPE") }
                    guard Self.knownTypes.contains(rest) else { throw fail("unknown type \(rest)") }
                    if rest == "counter" && family.hasSuffix("_total") { throw fail("a counter family named with _total") }
                    types[family] = rest
                case "HELP":
                    guard help[family] == nil else { throw fail("a second HELP") }
                    guard Self.validEscapes(rest) else { throw fail("HELP has an invalid escape or a bare quote") }
                    help[family] = rest
                default:
                    guard family.hasSuffix("_" + rest) else { throw fail("family name does not end with its unit") }
                }
                continue
            }
            let sample = try Self.sample(line, fail: fail)
            let family = Self.family(of: sample.name, types: types)
            guard let type = types[family] else { throw fail("a sample with no TYPE for its family") }
            try enter(family)
            switch type {
            case "counter":
                guard sample.name == family + "_total" || sample.name == family + "_created" else {
                    throw fail("counter sample not named \(family)_total")
                }
            case "histogram":
                guard ["_bucket", "_count", "_sum", "_created"].contains(where: { sample.name == family + $0 }) else {
                    throw fail("histogram sample with an unknown suffix")
                }
            default:
                guard sample.name == family else { throw fail("sample name differs from its family") }
            }
            if let exemplar = sample.exemplar {
                guard sample.name.hasSuffix("_total") || sample.name.hasSuffix("_bucket") else {
                    throw fail("an exemplar on a sample that is neither _total nor _bucket")
                }
                let length = exemplar.labels.reduce(0) { $0 + $1.key.count + $1.value.count }
                guard length <= 128 else { throw fail("exemplar labels of \(length) characters") }
            }
            let key =
                sample.name + "{"
                + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            guard seen.insert(key).inserted else { throw fail("the same series twice") }
            samples.append(sample)
        }
        try checkHistograms()
    }

    /// Buckets ascend and accumulate to `+Inf`, which equals `_count`; each exemplar lies in its bucket.
    private func checkHistograms() throws(Problem) {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(bound: Double, count: Double, exemplar: Exemplar?)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                var labels = sample.labels
                guard let le = labels.removeValue(forKey: "le"), let bound = MetricsExposition.number(le) else {
                    throw .malformed(line: 0, text: family, reason: "a bucket without a numeric le")
                }
                series[labels, default: []].append((bound, sample.value, sample.exemplar))
            }
            for (labels, buckets) in series {
                let place = "\(family)\(labels)"
                guard buckets.last?.bound == .infinity else { throw .malformed(line: 0, text: place, reason: "no +Inf bucket") }
                var previous = (bound: -Double.infinity, count: 0.0)
                for bucket in buckets {
                    guard bucket.bound > previous.bound, bucket.count >= previous.count else {
                        throw .malformed(line: 0, text: place, reason: "buckets out of order or not cumulative")
                    }
                    if let exemplar = bucket.exemplar, !(exemplar.value <= bucket.bound && exemplar.value > previous.bound) {
                        throw .malformed(line: 0, text: place, reason: "exemplar \(exemplar.value) outside le=\(bucket.bound)")
                    }
                    previous = (bucket.bound, bucket.count)
                }
                let count = samples.first { $0.name == family + "_count" && $0.labels == labels }?.value
                guard count == previous.count else {
                    throw .malformed(line: 0, text: place, reason: "_count \(String(describing: count)) is not +Inf's")
                }
            }
        }
    }

    /// The samples named `name` whose labels include every one of `labels`.
    public func samples(_ name: String, matching labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    static func family(of name: String, types: [String: String]) -> String {
        for suffix in ["_total", "_created", "_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] != nil { return base }
        }
        return name
    }

    /// `\\`, `\"` and `\n` only, and no unescaped quote.
    static func validEscapes(_ text: String) -> Bool {
        var escaped = false
        for character in text {
            if escaped {
                guard "\\\"n".contains(character) else { return false }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return false
            }
        }
        return !escaped
    }

    /// `name{labels} value [timestamp] [# {labels} value [timestamp]]`.
    static func sample(_ line: Substring, fail: (String) -> Problem) throws(Problem) -> Sample {
        var cursor = MetricsExposition.Cursor(Array(line.utf8))
        let name = cursor.identifier(allowColon: true)
        guard !name.isEmpty else { throw fail("no metric name") }
        let labels = try labelSet(&cursor, fail: fail) ?? [:]
        guard cursor.take(" ") else { throw fail("no space before the value") }
        let rest = String(decoding: cursor.bytes[cursor.index...], as: UTF8.self)
        let (main, exemplarText) = split(rest)
        let fields = main.split(separator: " ", omittingEmptySubsequences: false)
        guard (1...2).contains(fields.count), let value = number(fields[0]) else { throw fail("the value is not a number") }
        if fields.count == 2, number(fields[1]) == nil { throw fail("the timestamp is not a number") }
        var exemplar: Exemplar?
        if let exemplarText {
            var inner = MetricsExposition.Cursor(Array(exemplarText.utf8))
            guard let labels = try labelSet(&inner, fail: fail), inner.take(" ") else { throw fail("a malformed exemplar") }
            let parts = String(decoding: inner.bytes[inner.index...], as: UTF8.self).split(
                separator: " ", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let value = number(parts[0]) else { throw fail("exemplar value") }
            let timestamp = parts.count == 2 ? number(parts[1]) : nil
            if parts.count == 2 && timestamp == nil { throw fail("exemplar timestamp") }
            exemplar = Exemplar(labels: labels, value: value, timestamp: timestamp)
        }
        return Sample(name: name, labels: labels, value: value, exemplar: exemplar)
    }

    /// The value part and, after ` # `, the exemplar.
    static func split(_ text: String) -> (Substring, Substring?) {
        guard let range = text.range(of: " # ") else { return (Substring(text), nil) }
        return (text[..<range.lowerBound], text[range.upperBound...])
    }

    static func labelSet(_ cursor: inout MetricsExposition.Cursor, fail: (String) -> Problem) throws(Problem) -> [String: String]?
    {
        guard cursor.take("{") else { return nil }
        var labels: [String: String] = [:]
        while cursor.peek != UInt8(ascii: "}") {
            let label = cursor.identifier(allowColon: false)
            guard !label.isEmpty else { throw fail("no label name") }
            guard cursor.take("="), cursor.take("\"") else { throw fail("label \(label) has no quoted value") }
            guard let value = cursor.quoted() else { throw fail("label \(label) has an unterminated value") }
            guard labels.updateValue(value, forKey: label) == nil else { throw fail("label \(label) twice") }
            if !cursor.take(",") { break }
        }
        guard cursor.take("}") else { throw fail("labels not closed") }
        return labels
    }

    /// An OpenMetrics number: decimal or exponent notation, `+Inf`, `-Inf`, `NaN` (not `inf`).
    static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
            return Double(text)
        }
    }
}
