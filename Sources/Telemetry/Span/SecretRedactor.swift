/// Removes credentials from text that came from outside (upstream error messages, captured
/// content) before it reaches a response, a log line or a span.
public enum SecretRedactor {
    public static let replacement = "[redacted]"
    static let keyPrefixes = ["sk-", "sk_", "pk-", "pk_", "Bearer ", "bearer "]

    /// Replaces every known secret, then anything shaped like an API key or bearer token.
    public static func scrub(_ text: String, secrets: [String] = []) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacing(secret, with: replacement)
        }
        return scrubKeyShapes(result)
    }

    /// `sk-…`, `pk_…` and `Bearer …` followed by at least three key characters.
    static func scrubKeyShapes(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let (prefix, range) = keyPrefixes.compactMap({ p in rest.firstRange(of: p).map { (p, $0) } })
            .min(by: { $0.1.lowerBound < $1.1.lowerBound })
        {
            out += rest[..<range.lowerBound]
            let tail = rest[range.upperBound...]
            let keyChars = tail.prefix { $0.isLetter || $0.isNumber || "-_.*".contains($0) }
            if keyChars.count >= 3 {
                out += prefix + replacement
            } else {
                out += prefix + keyChars
            }
            rest = tail[keyChars.endIndex...]
        }
        return out + rest
    }
}
