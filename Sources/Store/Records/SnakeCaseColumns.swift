import GRDB

/// A record whose columns are its properties' names in snake case (`teamID` is `team_id`,
/// `maxBudget` is `max_budget`), the names LiteLLM's schema uses; so no record spells its
/// column names out one by one.
public protocol SnakeCaseColumns: FetchableRecord, EncodableRecord {}

extension SnakeCaseColumns {
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }

    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy {
        .custom { column in ColumnKey(stringValue: ColumnKey.property(forColumn: column)) }
    }
}

/// A property name found from its column's name.
struct ColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        nil
    }

    /// `team_id` → `teamID`, `max_parallel_requests` → `maxParallelRequests`: the inverse of
    /// GRDB's `convertToSnakeCase` for names whose only acronym is a trailing `ID`.
    static func property(forColumn column: String) -> String {
        let words = column.split(separator: "_")
        guard let first = words.first else { return column }
        return String(first) + words.dropFirst().map { $0 == "id" ? "ID" : $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
