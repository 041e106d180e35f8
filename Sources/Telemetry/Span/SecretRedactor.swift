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

    public static let emailReplacement = "[redacted-email]"

    /// Replaces `local@domain.tld` addresses (a dot in the domain, letters after the last dot).
    public static func scrubEmails(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "@")) else { return text }
        let bytes = Array(text.utf8)
        func isLocal(_ b: UInt8) -> Bool {
            isAlphanumeric(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "%")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
        }
        func isDomain(_ b: UInt8) -> Bool { isAlphanumeric(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") }
        var out: [UInt8] = []
        var copied = 0
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "@") else {
                index += 1
                continue
            }
            var start = index
            while start > copied, isLocal(bytes[start - 1]) { start -= 1 }
            var end = index + 1
            while end < bytes.count, isDomain(bytes[end]) { end += 1 }
            // A trailing dot ends the sentence, not the domain.
            while end > index + 1, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
            let domain = bytes[(index + 1)..<end]
            if start < index, let dot = domain.lastIndex(of: UInt8(ascii: ".")), dot > index + 1,
                end - dot > 2, bytes[(dot + 1)..<end].allSatisfy({ isLetter($0) })
            {
                out += bytes[copied..<start]
                out += Array(emailReplacement.utf8)
                copied = end
                index = end
            } else {
                index += 1
            }
        }
        out += bytes[copied...]
        return String(decoding: out, as: UTF8.self)
    }

    private static func isLetter(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        isLetter(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}
