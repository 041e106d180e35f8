import Foundation
import Store
import Telemetry

/// One field of an admin record under LiteLLM's name: how a JSON value is checked and set
/// (`null` clears), and how the field is shown in answers. A record's fields are listed once
/// (`AdminFields`); nothing else dispatches on field names.
struct AdminField<Record>: Sendable {
    typealias Setter = @Sendable (inout Record) -> Void
    typealias Parser = @Sendable (JSONValue, _ now: Double) throws(GatewayError) -> Setter

    let name: String
    /// Nil for a field answers show but requests may not set.
    let parse: Parser?
    /// Nil for a field requests set but answers do not show under that name.
    let render: (@Sendable (Record) -> JSONValue)?

    init(_ name: String, parse: Parser?, render: (@Sendable (Record) -> JSONValue)?) {
        self.name = name
        self.parse = parse
        self.render = render
    }

    /// A field stored at `path`: `check` turns the JSON value into the stored one.
    static func stored<Value: Sendable>(
        _ name: String, _ path: WritableKeyPath<Record, Value> & Sendable,
        _ check: @escaping @Sendable (JSONValue, String) throws(GatewayError) -> Value,
        show: @escaping @Sendable (Value) -> JSONValue
    ) -> AdminField {
        AdminField(
            name,
            parse: { value, _ throws(GatewayError) in
                let checked = try check(value, name)
                return { $0[keyPath: path] = checked }
            },
            render: { show($0[keyPath: path]) })
    }

    /// A field answers show and requests cannot set (ids, spend, times the gateway keeps).
    static func shown(_ name: String, _ render: @escaping @Sendable (Record) -> JSONValue) -> AdminField {
        AdminField(name, parse: nil, render: render)
    }

    static func text(_ name: String, _ path: WritableKeyPath<Record, String?> & Sendable) -> AdminField {
        stored(name, path, AdminValue.text, show: AdminValue.show)
    }

    static func flag(_ name: String, _ path: WritableKeyPath<Record, Bool> & Sendable) -> AdminField {
        stored(name, path, AdminValue.flag, show: JSONValue.bool)
    }

    static func amount(_ name: String, _ path: WritableKeyPath<Record, Double?> & Sendable) -> AdminField {
        stored(name, path, AdminValue.amount, show: AdminValue.show)
    }

    static func count(_ name: String, _ path: WritableKeyPath<Record, Int?> & Sendable) -> AdminField {
        stored(name, path, AdminValue.count, show: AdminValue.show)
    }

    static func names(_ name: String, _ path: WritableKeyPath<Record, [String]> & Sendable) -> AdminField {
        stored(name, path, AdminValue.names, show: { .array($0.map(JSONValue.string)) })
    }

    static func nameMap(_ name: String, _ path: WritableKeyPath<Record, [String: String]> & Sendable) -> AdminField {
        stored(
            name, path, AdminValue.nameMap,
            show: { .object(JSONObject($0.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })) })
    }

    /// A LiteLLM field Spanway keeps and shows back but does not act on: one member of the
    /// record's JSON object at `path`, checked for its JSON kind only. Null removes it, and
    /// answers then show `empty` (LiteLLM's default for the field).
    static func kept(
        _ name: String, _ kind: AdminValue.Kind, in path: WritableKeyPath<Record, String> & Sendable,
        empty: JSONValue = .null
    ) -> AdminField {
        AdminField(
            name,
            parse: { value, _ throws(GatewayError) in
                let checked = try kind.check(value, name)
                return { $0[keyPath: path] = AdminValue.setting(name, checked, in: $0[keyPath: path]) }
            },
            render: { AdminValue.parsedObject($0[keyPath: path])[name] ?? empty })
    }

    /// Fields kept the same way, in order.
    static func kept(
        _ fields: [(name: String, kind: AdminValue.Kind, empty: JSONValue)], in path: WritableKeyPath<Record, String> & Sendable
    ) -> [AdminField] {
        fields.map { kept($0.name, $0.kind, in: path, empty: $0.empty) }
    }
}

extension AdminField where Record: LimitedRecord {
    /// `budget_duration`: setting a period starts it now.
    static var budgetDuration: AdminField {
        AdminField(
            "budget_duration",
            parse: { value, now throws(GatewayError) in
                let period = try AdminValue.duration(value, "budget_duration")
                return {
                    $0.limits.budgetDuration = period?.text
                    $0.limits.budgetResetAt = period.map { now + $0.seconds }
                }
            },
            render: { AdminValue.show($0.limits.budgetDuration) })
    }

    /// The fields every key, team, user and organisation has: its `Limits` and its metadata,
    /// shown through `showMetadata` (teams mask the credentials in theirs).
    /// `spendSettable`: LiteLLM lets `/key/*` and `/user/*` set the spend counted so far.
    static func limitFields(
        spendSettable: Bool = false, showMetadata: @escaping @Sendable (String) -> JSONValue = AdminValue.parsedObject
    ) -> [AdminField] {
        [
            stored("models", \.limits.models, AdminValue.names, show: { .array($0.map(JSONValue.string)) }),
            amount("max_budget", \.limits.maxBudget),
            budgetDuration,
            shown("budget_reset_at") { AdminValue.date($0.limits.budgetResetAt) },
            spendSettable
                ? stored(
                    "spend", \.limits.spend, { value, field throws(GatewayError) in try AdminValue.amount(value, field) ?? 0 },
                    show: JSONValue.double)
                : shown("spend") { .double($0.limits.spend) },
            count("tpm_limit", \.limits.tpmLimit),
            count("rpm_limit", \.limits.rpmLimit),
            count("max_parallel_requests", \.limits.maxParallelRequests),
            stored("metadata", \.metadata, AdminValue.objectText, show: showMetadata),
        ]
    }
}

/// A record type's admin fields, in the order answers show them.
struct AdminFields<Record>: Sendable {
    let fields: [AdminField<Record>]
    /// The names requests may set.
    let settable: Set<String>

    init(_ fields: [AdminField<Record>]) {
        self.fields = fields
        settable = Set(fields.filter { $0.parse != nil }.map(\.name))
    }

    /// Checks every member of a request body, in order, and returns the changes to make.
    /// Members named in `passing` are the caller's own (an id) and left alone; any other unknown
    /// member is refused.
    func changes(_ body: JSONObject, passing: Set<String> = [], now: Double) throws(GatewayError) -> Changes {
        var setters: [AdminField<Record>.Setter] = []
        for (name, value) in body.members where !passing.contains(name) {
            guard let parse = fields.first(where: { $0.name == name })?.parse else {
                throw .invalidRequest("Unknown field '\(name)'.", param: name)
            }
            setters.append(try parse(value, now))
        }
        return Changes(setters: setters)
    }

    func render(_ record: Record) -> JSONObject {
        JSONObject(fields.compactMap { field in field.render.map { (key: field.name, value: $0(record)) } })
    }

    /// Checked changes, applied once the record they change is at hand.
    struct Changes {
        let setters: [AdminField<Record>.Setter]

        func apply(to record: inout Record) {
            for set in setters { set(&record) }
        }
    }
}

/// The admin API's value kinds: each checks a JSON value (null clears) and says what was
/// expected when it does not fit.
enum AdminValue {
    static func mismatch(_ field: String, _ expected: String, _ value: JSONValue) -> GatewayError {
        .invalidRequest("'\(field)' must be \(expected), found \(value.typeName).", param: field)
    }

    static func text(_ value: JSONValue, _ field: String) throws(GatewayError) -> String? {
        if value.isNull { return nil }
        guard let text = value.stringValue else { throw mismatch(field, "a string", value) }
        return text
    }

    static func flag(_ value: JSONValue, _ field: String) throws(GatewayError) -> Bool {
        if value.isNull { return false }
        guard let flag = value.boolValue else { throw mismatch(field, "a boolean", value) }
        return flag
    }

    /// A sum of money or a limit: never negative.
    static func amount(_ value: JSONValue, _ field: String) throws(GatewayError) -> Double? {
        if value.isNull { return nil }
        guard let amount = value.doubleValue else { throw mismatch(field, "a number", value) }
        guard amount >= 0 else { throw .invalidRequest("'\(field)' must not be negative.", param: field) }
        return amount
    }

    static func count(_ value: JSONValue, _ field: String) throws(GatewayError) -> Int? {
        if value.isNull { return nil }
        guard let count = value.intValue else { throw mismatch(field, "an integer", value) }
        guard count >= 0 else { throw .invalidRequest("'\(field)' must not be negative.", param: field) }
        return count
    }

    /// An array of strings (model names); null is the empty list.
    static func names(_ value: JSONValue, _ field: String) throws(GatewayError) -> [String] {
        if value.isNull { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw mismatch(field, "an array of strings", value)
        }
        return items.compactMap(\.stringValue)
    }

    /// An object of strings (model aliases); null is the empty map.
    static func nameMap(_ value: JSONValue, _ field: String) throws(GatewayError) -> [String: String] {
        if value.isNull { return [:] }
        guard let object = value.objectValue, object.members.allSatisfy({ $0.value.stringValue != nil }) else {
            throw mismatch(field, "an object of strings", value)
        }
        return Dictionary(object.members.compactMap { m in m.value.stringValue.map { (m.key, $0) } }, uniquingKeysWith: { $1 })
    }

    /// A JSON object, kept as its text; null is the empty object.
    static func objectText(_ value: JSONValue, _ field: String) throws(GatewayError) -> String {
        if value.isNull { return "{}" }
        guard let object = value.objectValue else { throw mismatch(field, "an object", value) }
        return JSONValue.object(object).encodedString()
    }

    /// LiteLLM's duration text (`30d`) and its length in seconds.
    static func duration(_ value: JSONValue, _ field: String) throws(GatewayError) -> (text: String, seconds: Double)? {
        if value.isNull { return nil }
        guard let text = value.stringValue else { throw mismatch(field, "a duration string", value) }
        guard let seconds = DurationText.seconds(text) else {
            throw .invalidRequest("'\(field)' must be a duration like 30s, 15m, 1h, 1d, 30d or 1mo.", param: field)
        }
        return (text, seconds)
    }

    /// An ISO 8601 date and time (`2026-01-31T12:00:00Z`, fractional seconds and offsets allowed,
    /// as pydantic's `datetime` takes them), or a date alone, as seconds since the epoch.
    static func instant(_ value: JSONValue, _ field: String) throws(GatewayError) -> Double? {
        if value.isNull { return nil }
        if let seconds = value.doubleValue { return seconds }
        guard let text = value.stringValue else { throw mismatch(field, "an ISO 8601 date and time", value) }
        let full = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions.insert(.withFractionalSeconds)
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        // A time without an offset is taken as UTC.
        let zoned = text.count == 19 || (text.count > 19 && text.dropFirst(19).first == ".") ? text + "Z" : text
        guard let date = full.date(from: zoned) ?? fractional.date(from: zoned) ?? day.date(from: text) else {
            throw .invalidRequest("'\(field)' must be an ISO 8601 date and time, like 2026-01-31T12:00:00Z.", param: field)
        }
        return date.timeIntervalSince1970
    }

    /// The JSON kinds of the fields Spanway keeps without acting on them.
    enum Kind: Sendable {
        case text, flag, number, count, list, object
        /// One of these strings.
        case choice([String])

        func check(_ value: JSONValue, _ field: String) throws(GatewayError) -> JSONValue {
            if value.isNull { return value }
            switch self {
            case .text: _ = try AdminValue.text(value, field)
            case .flag: _ = try AdminValue.flag(value, field)
            case .number: _ = try AdminValue.amount(value, field)
            case .count: _ = try AdminValue.count(value, field)
            case .list: guard value.arrayValue != nil else { throw AdminValue.mismatch(field, "an array", value) }
            case .object: guard value.objectValue != nil else { throw AdminValue.mismatch(field, "an object", value) }
            case .choice(let options):
                guard let text = value.stringValue, options.contains(text) else {
                    throw .invalidRequest("'\(field)' must be one of \(options.joined(separator: ", ")).", param: field)
                }
            }
            return value
        }
    }

    /// Object text with one member set (null removes it).
    static func setting(_ name: String, _ value: JSONValue, in text: String) -> String {
        var object = parsedObject(text).objectValue ?? [:]
        object[name] = value.isNull ? nil : value
        return JSONValue.object(object).encodedString()
    }

    static func show(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    static func show(_ number: Double?) -> JSONValue { number.map(JSONValue.double) ?? .null }
    static func show(_ number: Int?) -> JSONValue { number.map(JSONValue.int) ?? .null }

    /// Stored object text as JSON; text that does not parse shows as an empty object.
    static func parsedObject(_ text: String) -> JSONValue {
        (try? JSONParser.parse(text)) ?? .object([:])
    }

    /// Seconds since the epoch as ISO 8601 text.
    static func date(_ seconds: Double?) -> JSONValue {
        seconds.map { .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0))) } ?? .null
    }
}
