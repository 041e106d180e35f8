/// Escaping for text and attribute values placed in HTML (and in SVG inside HTML).
///
/// Every string that comes from data — model names, item ids, answers, error messages — goes
/// through `escape` before it reaches a page; only markup the kit itself builds is written raw.
public enum HTML {
    /// Replaces `&`, `<`, `>`, `"` and `'` with character references, so the result is safe as
    /// element text and inside a quoted attribute value.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // NUL is a parse error in HTML text; a replacement character shows something was there.
            case "\u{0}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `name="value"` pairs, values escaped, each preceded by a space.
    public static func attributes(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { " \($0.name)=\"\(escape($0.value))\"" }.joined()
    }
}
