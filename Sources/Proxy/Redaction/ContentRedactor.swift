import Telemetry

/// Makes captured prompts and answers safe to export: every string loses the gateway's own
/// secrets (master key, provider keys, sink credentials), anything shaped like an API key or a
/// bearer token, and, when asked, email addresses.
struct ContentRedactor: Sendable {
    let secrets: [String]
    let redactEmails: Bool
    /// Longest captured string; content is for debugging, not archiving.
    static let maxStringBytes = 32 * 1024

    private var longestSecret: Int { secrets.map(\.utf8.count).max() ?? 0 }

    func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            // Cut before scrubbing (a huge prompt costs no more than the part kept), with room for
            // a secret that straddles the cut, so no secret is left half-visible; then cut again.
            let truncated = text.utf8.count > Self.maxStringBytes
            var clean = truncated ? String(decoding: text.utf8.prefix(Self.maxStringBytes + longestSecret), as: UTF8.self) : text
            clean = SecretRedactor.scrub(clean, secrets: secrets)
            if redactEmails { clean = SecretRedactor.scrubEmails(clean) }
            if truncated || clean.utf8.count > Self.maxStringBytes {
                clean = String(decoding: clean.utf8.prefix(Self.maxStringBytes), as: UTF8.self) + "…[truncated]"
            }
            return .string(clean)
        case .array(let items):
            return .array(items.map(redact))
        case .object(let object):
            return .object(JSONObject(object.members.map { (key: $0.key, value: redact($0.value)) }))
        case .null, .bool, .number:
            return value
        }
    }
}
