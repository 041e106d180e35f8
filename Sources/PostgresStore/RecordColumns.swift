import Foundation
import GRDB
import PostgresNIO
import Store

/// Moves records between PostgreSQL and the records' own column coding (GRDB's Codable record
/// support, as the SQLite store uses it), so both stores write the same column values: limits as
/// their own columns, model lists and aliases as JSON text, snake-case names.
enum RecordColumns {
    /// Columns stored as `boolean` here; GRDB codes booleans as the integers 0 and 1.
    static let booleans: Set<String> = ["blocked", "allow_evaluations", "usage_estimated"]

    /// The record's columns and values, in column-name order.
    static func values<Record: EncodableRecord>(of record: Record) throws -> [(column: String, value: DatabaseValue)] {
        try record.databaseDictionary.sorted { $0.key < $1.key }.map { (column: $0.key, value: $0.value) }
    }

    static func append(_ value: DatabaseValue, column: String, to bindings: inout PostgresBindings) {
        switch value.storage {
        case .null: bindings.appendNull()
        case .int64(let number) where booleans.contains(column): bindings.append(number != 0)
        case .int64(let number): bindings.append(number)
        case .double(let number): bindings.append(number)
        case .string(let text): bindings.append(text)
        case .blob(let data): bindings.append(ByteBuffer(bytes: data))
        }
    }

    /// A PostgreSQL row as a GRDB row, for the records' decoding. Booleans become 0 and 1 again.
    static func row(_ row: PostgresRow) throws -> Row {
        var values: [String: (any DatabaseValueConvertible)?] = [:]
        for cell in row {
            values[cell.columnName] =
                switch cell.dataType {
                case .bool: try cell.decode(Bool?.self)
                case .int2, .int4, .int8: try cell.decode(Int64?.self)
                case .float4, .float8: try cell.decode(Double?.self)
                default: try cell.decode(String?.self)
                }
        }
        return Row(values)
    }

    /// A record decoded from a PostgreSQL row.
    static func record<Record: FetchableRecord>(_ type: Record.Type, from row: PostgresRow) throws -> Record {
        try Record(row: self.row(row))
    }

    /// A column or table name quoted for SQL. Names come from the records' own coding keys and
    /// the store's closed lists, never from requests.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
