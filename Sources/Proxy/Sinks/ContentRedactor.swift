import Telemetry

/// Makes captured prompts and answers safe to export: every string loses the gateway's own
/// secrets (master key, provider keys, sink credentials), anything shaped like an API key or a
/// bearer token, and, when asked, email addresses.
struct ContentRedactor: Sendable {
    let secrets: [String]
    let redactEmails: Bool
    /// Longest captured string; content is for debugging, not archiving.
    static let maxStringBytes = 32 * 1024

    func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            var clean = SecretRedactor.scrub(text, secrets: secrets)
            if redactEmails { clean = SecretRedactor.scrubEmails(clean) }
            if clean.utf8.count > Self.maxStringBytes {
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
