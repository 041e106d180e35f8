/// OpenMetrics text 1.0.0 made from the Prometheus 0.0.4 text swift-prometheus renders (it writes
/// no other format, and no exemplars). The series and values are the same; what differs
/// (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md):
/// a counter's HELP and TYPE name its family, without `_total`, while its samples keep `_total`;
/// quotes in HELP are escaped; infinities and NaN are spelled `+Inf`, `-Inf`, `NaN`; histogram
/// buckets may end with an exemplar (`# {trace_id="…",span_id="…"} value timestamp`); and the
/// text ends with `# EOF`.
enum OpenMetricsText {
    /// `exemplar(family, labels, upperBound)` gives the exemplar of one bucket, if any.
    static func convert(
        _ text: [UInt8], exemplar: (_ family: String, _ labels: [String: String], _ upperBound: Double) -> Exemplar?
    ) -> [UInt8] {
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map {
            String(decoding: $0, as: UTF8.self)
        }
        var types: [String: String] = [:]
        for line in lines where line.hasPrefix("# TYPE ") {
            let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
            if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
        }
        var out = ""
        out.reserveCapacity(text.count + text.count / 4)
        var family: (name: String, type: String)?
        for line in lines {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                let rest = parts.count > 1 ? String(parts[1]) : ""
                let familyName = familyName(name, type: types[name])
                if line.hasPrefix("# HELP ") {
                    out += "# HELP \(familyName) \(rest.replacingQuotes())\n"
                } else {
                    family = (name, rest)
                    out += "# TYPE \(familyName) \(rest == "untyped" ? "unknown" : rest)\n"
                }
                continue
            }
            // OpenMetrics allows no other comments.
            if line.hasPrefix("#") { continue }
            out += sample(line, family: family, exemplar: exemplar)
            out += "\n"
        }
        out += "# EOF\n"
        return Array(out.utf8)
    }

    /// The family a 0.0.4 TYPE or HELP line names: a counter's without its `_total`.
    static func familyName(_ name: String, type: String?) -> String {
        type == "counter" && name.hasSuffix("_total") ? String(name.dropLast(6)) : name
    }

    /// One sample line, its name, value and exemplar as OpenMetrics wants them.
    private static func sample(
        _ line: String, family: (name: String, type: String)?,
        exemplar: (String, [String: String], Double) -> Exemplar?
    ) -> String {
        guard let space = line.lastIndex(of: " ") else { return line }
        var head = String(line[..<space])
        let value = String(line[line.index(after: space)...])
        let nameEnd = head.firstIndex { $0 == "{" || $0 == " " } ?? head.endIndex
        let name = head[..<nameEnd]
        if let family, family.type == "counter", name == family.name, !name.hasSuffix("_total") {
            head = name + "_total" + head[nameEnd...]
        }
        var out = head + " " + number(value)
        if let family, family.type == "histogram", name == family.name + "_bucket",
            let labels = LabelSet.parse(head[nameEnd...]), let le = labels["le"],
            let bound = le == "+Inf" ? Double.infinity : Double(le)
        {
            var others = labels
            others["le"] = nil
            if let found = exemplar(family.name, others, bound) {
                // Label names and values stay within the 128 characters OpenMetrics allows (8 + 32 + 7 + 16).
                out += " # {trace_id=\"\(found.traceID)\",span_id=\"\(found.spanID)\"} \(number(found.value))"
                out += " \(number(found.timestamp))"
            }
        }
        return out
    }

    private static func number(_ value: Double) -> String { number(String(value)) }

    /// Swift's spellings of the non-finite values in OpenMetrics' ("+Inf", "-Inf", "NaN").
    private static func number(_ text: String) -> String {
        switch text {
        case "inf", "+inf", "Inf": "+Inf"
        case "-inf": "-Inf"
        case "nan", "-nan": "NaN"
        default: text
        }
    }

    /// A sample's `{name="value",…}`, values unescaped (`\\`, `\"`, `\n`).
    enum LabelSet {
        static func parse(_ text: Substring) -> [String: String]? {
            var labels: [String: String] = [:]
            var index = text.startIndex
            guard index < text.endIndex, text[index] == "{" else { return nil }
            index = text.index(after: index)
            while index < text.endIndex, text[index] != "}" {
                guard let equals = text[index...].firstIndex(of: "=") else { return nil }
                let name = String(text[index..<equals])
                index = text.index(after: equals)
                guard index < text.endIndex, text[index] == "\"" else { return nil }
                index = text.index(after: index)
                var value = ""
                while index < text.endIndex, text[index] != "\"" {
                    if text[index] == "\\" {
                        index = text.index(after: index)
                        guard index < text.endIndex else { return nil }
                        value.append(text[index] == "n" ? "\n" : text[index])
                    } else {
                        value.append(text[index])
                    }
                    index = text.index(after: index)
                }
                guard index < text.endIndex else { return nil }
                index = text.index(after: index)
                labels[name] = value
                if index < text.endIndex, text[index] == "," { index = text.index(after: index) }
            }
            return labels
        }
    }
}

extension String {
    /// A 0.0.4 HELP text (backslashes already escaped, no line feeds) as OpenMetrics escapes it.
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "\"" ? "\\\"" : String(character) }
        return out
    }
}
