import Foundation

/// A SQL script split into statements, for running migration files over the extended query
/// protocol (one statement per query): semicolons inside quotes, quoted names, dollar-quoted
/// bodies (`DO $$ … $$`) and comments do not end a statement.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let text = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0
        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func starts(with prefix: String, at position: Int) -> Bool {
            let scalars = Array(prefix.unicodeScalars)
            return position + scalars.count <= text.count && Array(text[position..<position + scalars.count]) == scalars
        }
        while index < text.count {
            let scalar = text[index]
            if starts(with: "--", at: index) {
                while index < text.count, text[index] != "\n" { index += 1 }
                continue
            }
            if starts(with: "/*", at: index) {
                index += 2
                while index < text.count, !starts(with: "*/", at: index) { index += 1 }
                index += 2
                continue
            }
            if scalar == "'" || scalar == "\"" {
                // Doubled quotes inside are two quoted runs back to back, which this also reads.
                current.append(scalar)
                index += 1
                while index < text.count, text[index] != scalar {
                    current.append(text[index])
                    index += 1
                }
                if index < text.count { current.append(text[index]) }
                index += 1
                continue
            }
            if scalar == "$", let tag = dollarTag(text, at: index) {
                let close = String(String.UnicodeScalarView(tag))
                current.append(contentsOf: tag)
                index += tag.count
                while index < text.count, !starts(with: close, at: index) {
                    current.append(text[index])
                    index += 1
                }
                current.append(contentsOf: tag)
                index += tag.count
                continue
            }
            if scalar == ";" {
                flush()
            } else {
                current.append(scalar)
            }
            index += 1
        }
        flush()
        return statements
    }

    /// `$$` or `$name$` starting at `index`.
    private static func dollarTag(_ text: [Unicode.Scalar], at index: Int) -> [Unicode.Scalar]? {
        var end = index + 1
        while end < text.count, text[end] == "_" || text[end].properties.isAlphabetic || ("0"..."9").contains(text[end]) {
            end += 1
        }
        guard end < text.count, text[end] == "$" else { return nil }
        // `$1` is a parameter, not a tag.
        if end > index + 1, ("0"..."9").contains(text[index + 1]) { return nil }
        return Array(text[index...end])
    }
}
