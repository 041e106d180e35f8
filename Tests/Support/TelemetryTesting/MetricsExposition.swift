/// A strict reader of Prometheus' text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), for checks on
/// what `/metrics` renders. Every sample line is parsed whole (name, each label with its escapes,
/// the value as a number), so a check for `… 1` cannot be satisfied by `… 10`, and a line the
/// format does not allow fails the parse instead of being skipped.
public struct MetricsExposition: Sendable {
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// Line `line` (1-based) is not valid exposition text.
        case malformed(line: Int, text: String, reason: String)
        /// A lookup matched several series; name more labels.
        case ambiguous(name: String, labels: [String: String], matches: Int)

        public var description: String {
            switch self {
            case .malformed(let line, let text, let reason): "line \(line) (\(text)): \(reason)"
            case .ambiguous(let name, let labels, let matches): "\(matches) series of \(name) match \(labels)"
            }
        }
    }

    /// `# TYPE` of each metric family.
    public private(set) var types: [String: String] = [:]
    /// `# HELP` of each metric family.
    public private(set) var help: [String: String] = [:]
    public private(set) var samples: [Sample] = []

    public init(_ text: String) throws(Problem) {
        guard text.isEmpty || text.hasSuffix("\n") else {
            throw .malformed(line: 0, text: "", reason: "the exposition must end with a line feed")
        }
        var seen = Set<String>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            func fail(_ reason: String) -> Problem { .malformed(line: index + 1, text: String(line), reason: reason) }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                guard Self.isMetricName(name) else { throw fail("not a metric name") }
                let rest = parts.count > 1 ? String(parts[1]) : ""
                if line.hasPrefix("# HELP ") {
                    guard help[name] == nil else { throw fail("a second HELP") }
                    help[name] = rest
                } else {
                    guard types[name] == nil else { throw fail("a second TYPE") }
                    guard samples.allSatisfy({ Self.family(of: $0.name, types: types) != name }) else {
                        throw fail("TYPE after the family's samples")
                    }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else {
                        throw fail("unknown type")
                    }
                    types[name] = rest
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            var cursor = Cursor(Array(line.utf8))
            guard let sample = cursor.sample() else { throw fail(cursor.error ?? "not a sample") }
            guard types[Self.family(of: sample.name, types: types)] != nil else { throw fail("a sample before its TYPE") }
            let key =
                sample.name + "{"
                + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            guard seen.insert(key).inserted else { throw fail("the same series twice") }
            samples.append(sample)
        }
    }

    /// The samples named `name` whose labels include every one of `labels`.
    public func samples(_ name: String, matching labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The value of the one series named `name` whose labels include `labels`, or nil when there
    /// is none. Throws when several match, so a check cannot read a series it did not mean.
    public func value(of name: String, labels: [String: String] = [:]) throws(Problem) -> Double? {
        let matches = samples(name, matching: labels)
        guard matches.count <= 1 else { throw .ambiguous(name: name, labels: labels, matches: matches.count) }
        return matches.first?.value
    }

    /// A histogram's cumulative buckets, by upper bound (`+Inf` last), for the series with `labels`.
    public func buckets(of histogram: String, labels: [String: String] = [:]) -> [(upperBound: Double, count: Double)] {
        samples(histogram + "_bucket", matching: labels).compactMap { sample in
            sample.labels["le"].flatMap(Self.number).map { (upperBound: $0, count: sample.value) }
        }
    }

    /// A sample's family: the histogram or summary it belongs to, else its own name.
    static func family(of name: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let type = types[base], type == "histogram" || (type == "summary" && suffix != "_bucket") { return base }
        }
        return name
    }

    /// A sample value or `le` bound: a Go float, `NaN`, `+Inf` or `-Inf`.
    static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            // Swift's Double(_:) also takes "inf", "nan" and hex floats, which the format does not.
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
            return Double(text)
        }
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isNameStart(first) || first == UInt8(ascii: ":") else { return false }
        return name.utf8.allSatisfy { isNameStart($0) || $0 == UInt8(ascii: ":") || isDigit($0) }
    }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_")
    }

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// Reads one sample line: `name[{label="value",…}] value [timestamp]`.
    struct Cursor {
        let bytes: [UInt8]
        var index = 0
        var error: String?

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func sample() -> Sample? {
            let name = identifier(allowColon: true)
            guard !name.isEmpty else { return failed("no metric name") }
            var labels: [String: String] = [:]
            if peek == UInt8(ascii: "{") {
                index += 1
                while peek != UInt8(ascii: "}") {
                    let label = identifier(allowColon: false)
                    guard !label.isEmpty else { return failed("no label name") }
                    guard take("="), take("\"") else { return failed("label \(label) has no quoted value") }
                    guard let value = quoted() else { return failed("label \(label) has an unterminated value") }
                    guard labels.updateValue(value, forKey: label) == nil else { return failed("label \(label) twice") }
                    if !take(",") { break }
                }
                guard take("}") else { return failed("labels not closed") }
            }
            guard take(" ") else { return failed("no space before the value") }
            let rest = String(decoding: bytes[index...], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
            guard let first = rest.first, let value = MetricsExposition.number(String(first)) else {
                return failed("the value is not a number")
            }
            // An optional integer timestamp (milliseconds), nothing else.
            guard rest.count == 1 || (rest.count == 2 && Int64(rest[1]) != nil) else { return failed("text after the value") }
            return Sample(name: name, labels: labels, value: value)
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func take(_ character: Character) -> Bool {
            guard let ascii = character.asciiValue, peek == ascii else { return false }
            index += 1
            return true
        }

        mutating func identifier(allowColon: Bool) -> String {
            let start = index
            while let byte = peek,
                MetricsExposition.isNameStart(byte) || (allowColon && byte == UInt8(ascii: ":"))
                    || (index > start && MetricsExposition.isDigit(byte))
            {
                index += 1
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// A label value after its opening quote, with `\\`, `\"` and `\n` unescaped.
        mutating func quoted() -> String? {
            var out: [UInt8] = []
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let next = peek else { return nil }
                    index += 1
                    switch next {
                    case UInt8(ascii: "\\"): out.append(next)
                    case UInt8(ascii: "\""): out.append(next)
                    case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
                    default: return nil
                    }
                default: out.append(byte)
                }
            }
            return nil
        }

        mutating func failed(_ reason: String) -> Sample? {
            error = reason
            return nil
        }
    }
}
