import Store
import Telemetry

/// The fields of `/key/generate` and `/key/update` (LiteLLM's names), checked one by one:
/// unknown fields and wrong types are refused with the field named.
struct KeyFields {
    static let settable = VirtualKey.limitFields.union([
        "key_alias", "aliases", "team_id", "user_id", "duration", "blocked", "soft_budget",
    ])

    var values: [String: JSONValue] = [:]

    init(_ body: JSONObject, extra: Set<String> = []) throws(GatewayError) {
        for (field, value) in body.members {
            guard Self.settable.contains(field) || extra.contains(field) else {
                throw .invalidRequest("Unknown field '\(field)'.", param: field)
            }
            if Self.settable.contains(field) { try Self.check(field, value) }
            values[field] = value
        }
    }

    static func check(_ field: String, _ value: JSONValue) throws(GatewayError) {
        if value.isNull { return }
        func fail(_ expected: String) -> GatewayError {
            .invalidRequest("'\(field)' must be \(expected), found \(value.typeName).", param: field)
        }
        switch field {
        case "key_alias", "team_id", "user_id", "team_alias", "organization_id", "user_alias", "user_email":
            guard value.stringValue != nil else { throw fail("a string") }
        case "models":
            guard value.arrayValue?.allSatisfy({ $0.stringValue != nil }) == true else { throw fail("an array of strings") }
        case "aliases":
            guard value.objectValue?.members.allSatisfy({ $0.value.stringValue != nil }) == true else {
                throw fail("an object of strings")
            }
        case "metadata":
            guard value.objectValue != nil else { throw fail("an object") }
        case "blocked":
            guard value.boolValue != nil else { throw fail("a boolean") }
        case "max_budget", "soft_budget":
            guard let budget = value.doubleValue else { throw fail("a number") }
            guard budget >= 0 else { throw .invalidRequest("'\(field)' must not be negative.", param: field) }
        case "tpm_limit", "rpm_limit", "max_parallel_requests":
            guard let limit = value.intValue else { throw fail("an integer") }
            guard limit >= 0 else { throw .invalidRequest("'\(field)' must not be negative.", param: field) }
        case "budget_duration", "duration":
            guard let text = value.stringValue else { throw fail("a duration string") }
            guard DurationText.seconds(text) != nil else {
                throw .invalidRequest("'\(field)' must be a duration like 30s, 15m, 1h, 1d, 30d or 1mo.", param: field)
            }
        default:
            break
        }
    }

    /// Applies every given field to `key`; `null` clears an optional field.
    func apply(to key: inout VirtualKey, now: Double) {
        for (field, value) in values where !key.applyLimitField(field, value, now: now) {
            switch field {
            case "key_alias": key.keyAlias = value.stringValue
            case "team_id": key.teamID = value.stringValue
            case "user_id": key.userID = value.stringValue
            case "aliases":
                key.aliases = Dictionary(
                    (value.objectValue?.members ?? []).compactMap { m in m.value.stringValue.map { (m.key, $0) } },
                    uniquingKeysWith: { $1 })
            case "blocked": key.blocked = value.boolValue ?? false
            case "soft_budget": key.softBudget = value.doubleValue
            case "duration": key.expiresAt = value.stringValue.flatMap(DurationText.seconds).map { now + $0 }
            default: break
            }
        }
    }
}
