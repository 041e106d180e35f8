/// Writes CSV as RFC 4180 describes it (https://www.rfc-editor.org/rfc/rfc4180): CRLF line ends,
/// a field quoted when it holds a comma, a quote, CR or LF, and quotes inside doubled.
///
/// Text fields are also guarded against spreadsheet formula injection
/// (https://owasp.org/www-community/attacks/CSV_Injection): one starting with `=`, `+`, `-`, `@`,
/// tab or CR gets a leading `'` so Excel or Sheets shows it instead of evaluating it. Numeric
/// fields are written as numbers and never guarded, so `-0.5` stays a number.
public struct CSVWriter: Sendable {
    public enum Field: Sendable, Equatable {
        /// Text from outside (ids, names, messages): quoted as needed and formula-guarded.
        case text(String)
        /// A number already formatted by the caller; written as is.
        case number(String)
        case empty
    }

    public private(set) var output: String = ""

    public init() {}

    public mutating func row(_ fields: [Field]) {
        output += fields.map(Self.encode).joined(separator: ",") + "\r\n"
    }

    public mutating func header(_ names: [String]) {
        row(names.map(Field.text))
    }

    static func encode(_ field: Field) -> String {
        switch field {
        case .empty: return ""
        case .number(let text): return quoteIfNeeded(text)
        case .text(let text): return quoteIfNeeded(guardFormula(text))
        }
    }

    static func guardFormula(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        return ["=", "+", "-", "@", "\t", "\r"].contains(first) ? "'" + text : text
    }

    static func quoteIfNeeded(_ text: String) -> String {
        let needsQuotes = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(scalar) }
        }
        return quoted + "\""
    }
}
