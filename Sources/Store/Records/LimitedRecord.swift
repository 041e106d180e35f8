import GRDB

/// A record the store keeps by id and whose `Limits` bind requests: a key, team, user or
/// organisation. Its limits are columns of its own table, not a nested value.
public protocol LimitedRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
    /// Which kind of owner this is; also how refusals and metrics name it.
    static var owner: BudgetOwner { get }
    /// The primary key: a key's token, or a team, user or organisation id.
    var recordID: String { get }
    var limits: Limits { get set }
    /// Caller-defined JSON object, stored as text.
    var metadata: String { get set }
}

// The records leave `limits` out of their coding keys, so their own columns are coded by
// GRDB's Codable support and the limit columns are read and written once, by `Limits`.
extension LimitedRecord {
    public init(row: Row) throws {
        self = try OwnColumns<Self>(row: row).record
        limits = try Limits(row: row)
    }

    public func encode(to container: inout PersistenceContainer) throws {
        try OwnColumns(record: self).encode(to: &container)
        try limits.encode(to: &container)
    }
}

/// A record's columns other than its limits, through GRDB's Codable record support.
private struct OwnColumns<Record: Codable>: Codable, SnakeCaseColumns {
    var record: Record

    init(record: Record) {
        self.record = record
    }

    init(from decoder: any Decoder) throws {
        record = try Record(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
    }
}
