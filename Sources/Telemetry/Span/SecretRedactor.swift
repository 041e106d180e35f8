/// Removes credentials from text that came from outside (upstream error messages, captured
/// content) before it reaches a response, a log line or a span.
public enum SecretRedactor {
    public static let replacement = "[redacted]"
    static let keyPrefixes = ["sk-", "sk_", "pk-", "pk_", "Bearer ", "bearer "]

    /// Replaces every known secret, then anything shaped like an API key or bearer token.
    /// Linear in the text's length (times the number of secrets): it runs on untrusted text.
    public static func scrub(_ text: String, secrets: [String] = []) -> String {
        var bytes = Array(text.utf8)
        for secret in secrets where secret.utf8.count >= 4 {
            bytes = replacingOccurrences(of: Array(secret.utf8), in: bytes)
        }
        return String(decoding: scrubKeyShapes(bytes), as: UTF8.self)
    }

    static func scrubKeyShapes(_ text: String) -> String {
        String(decoding: scrubKeyShapes(Array(text.utf8)), as: UTF8.self)
    }

    private static let prefixBytes = keyPrefixes.map { Array($0.utf8) }
    private static let replacementBytes = Array(replacement.utf8)

    /// `sk-…`, `pk_…` and `Bearer …` followed by at least three key characters, in one pass:
    /// at each byte only the (short, fixed) prefixes are compared.
    private static func scrubKeyShapes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        scan: while index < bytes.count {
            for prefix in prefixBytes where matches(prefix, in: bytes, at: index) {
                var end = index + prefix.count
                while end < bytes.count, isKeyByte(bytes[end]) { end += 1 }
                out += prefix
                if end - (index + prefix.count) >= 3 {
                    out += replacementBytes
                } else {
                    out += bytes[(index + prefix.count)..<end]
                }
                index = end
                continue scan
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    private static func matches(_ needle: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard bytes.count - index >= needle.count else { return false }
        for offset in needle.indices where bytes[index + offset] != needle[offset] { return false }
        return true
    }

    /// Letters and digits (any non-ASCII byte counts as a letter, as `Character.isLetter` would
    /// for most scripts) and `-_.*`.
    private static func isKeyByte(_ b: UInt8) -> Bool {
        b >= 0x80 || isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
            || b == UInt8(ascii: "*")
    }

    /// Every occurrence of `needle` replaced, left to right, without overlaps. A needle's first
    /// byte is searched for and only there compared, so an adversarial text costs
    /// O(text × needle) at worst with needles of a few dozen bytes.
    private static func replacingOccurrences(of needle: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard let first = needle.first, bytes.count >= needle.count else { return bytes }
        var out: [UInt8] = []
        var index = 0
        var copied = 0
        while index <= bytes.count - needle.count {
            if bytes[index] == first, matches(needle, in: bytes, at: index) {
                if out.isEmpty { out.reserveCapacity(bytes.count) }
                out += bytes[copied..<index]
                out += replacementBytes
                index += needle.count
                copied = index
            } else {
                index += 1
            }
        }
        guard copied > 0 else { return bytes }
        out += bytes[copied...]
        return out
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
