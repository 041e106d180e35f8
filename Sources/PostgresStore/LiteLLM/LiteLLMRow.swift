import Foundation
import Telemetry

/// One LiteLLM row, read column by column; it remembers which columns were read, so the
/// columns an import has no place for can be reported instead of dropped silently.
struct LiteLLMRow {
    let table: String
    let object: JSONObject
    private(set) var read: Set<String> = []
    /// LiteLLM model names with no Spanway meaning, left out of a model list.
    var droppedModelNames: Set<String> = []

    init(table: String, object: JSONObject) {
        self.table = table
        self.object = object
    }

    /// Marks columns as carried without reading them (handled elsewhere, or bookkeeping such as a
    /// row's own `updated_at`).
    mutating func consume(_ columns: String...) {
        read.formUnion(columns)
    }

    private mutating func value(_ column: String) -> JSONValue? {
        read.insert(column)
        guard let value = object[column], !value.isNull else { return nil }
        return value
    }

    mutating func string(_ column: String) -> String? {
        value(column)?.stringValue
    }

    mutating func double(_ column: String) -> Double? {
        value(column)?.doubleValue
    }

    mutating func int(_ column: String) -> Int? {
        value(column)?.intValue
    }

    mutating func bool(_ column: String) -> Bool? {
        value(column)?.boolValue
    }

    /// A `text[]`: NULL reads as `[]` (Prisma's lists are nullable in SQL).
    mutating func strings(_ column: String) -> [String] {
        value(column)?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// A `jsonb` object; NULL and other shapes read as nil.
    mutating func object(_ column: String) -> JSONObject? {
        value(column)?.objectValue
    }

    mutating func array(_ column: String) -> [JSONValue]? {
        value(column)?.arrayValue
    }

    /// A `TIMESTAMP(3)` (UTC, no zone) as seconds since the epoch.
    mutating func timestamp(_ column: String) -> Double? {
        string(column).flatMap(LiteLLMTimestamp.seconds)
    }

    /// Columns not read that hold something other than NULL, `''`, `0`, `false`, `[]` or `{}`.
    var unreadValues: [String] {
        object.members.compactMap { member in
            read.contains(member.key) || Self.isEmpty(member.value) ? nil : member.key
        }
    }

    static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let flag): !flag
        case .number(let text): Double(text) == 0
        case .string(let text): text.isEmpty
        case .array(let items): items.isEmpty
        case .object(let members): members.isEmpty
        }
    }
}
