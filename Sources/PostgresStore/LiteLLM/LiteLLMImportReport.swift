/// What an import did, for the operator: per kind of record how many were created, replaced or
/// already equal, and every LiteLLM column that held a value Spanway has no place for (counted,
/// never with the value: some are secrets).
public struct LiteLLMImportReport: Sendable, Equatable {
    public struct Tally: Sendable, Equatable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0
        public var skipped = 0
        /// The ids of records whose stored values differed and were replaced by LiteLLM's.
        public var updatedIDs: [String] = []
    }

    /// By kind (`keys`, `teams`, …), in the order they were imported.
    public private(set) var tallies: [(kind: String, tally: Tally)] = []
    /// `table.column` → rows whose value was kept in `litellm_fields`: stored and shown back, no effect.
    public private(set) var kept: [String: Int] = [:]
    /// `table.column` → rows whose value was not carried over at all.
    public private(set) var dropped: [String: Int] = [:]
    /// `table.column` → rows linking to a record LiteLLM's database does not have; the link is
    /// imported as it is.
    public private(set) var dangling: [String: Int] = [:]
    public private(set) var notes: [String] = []

    public init() {}

    public static func == (lhs: LiteLLMImportReport, rhs: LiteLLMImportReport) -> Bool {
        lhs.tallies.map(\.kind) == rhs.tallies.map(\.kind) && lhs.tallies.map(\.tally) == rhs.tallies.map(\.tally)
            && lhs.kept == rhs.kept && lhs.dropped == rhs.dropped && lhs.dangling == rhs.dangling && lhs.notes == rhs.notes
    }

    public func tally(_ kind: String) -> Tally {
        tallies.first { $0.kind == kind }?.tally ?? Tally()
    }

    mutating func record(_ kind: String, _ change: (inout Tally) -> Void) {
        if let index = tallies.firstIndex(where: { $0.kind == kind }) {
            change(&tallies[index].tally)
        } else {
            var tally = Tally()
            change(&tally)
            tallies.append((kind, tally))
        }
    }

    mutating func kept(_ table: String, _ columns: [String]) {
        for column in columns { kept["\(table).\(column)", default: 0] += 1 }
    }

    mutating func dropped(_ table: String, _ columns: [String]) {
        for column in columns { dropped["\(table).\(column)", default: 0] += 1 }
    }

    mutating func dangling(_ table: String, _ column: String) {
        dangling["\(table).\(column)", default: 0] += 1
    }

    mutating func note(_ text: String) {
        notes.append(text)
    }

    /// The summary `spanway import litellm` prints.
    public var text: String {
        var lines: [String] = []
        for (kind, tally) in tallies {
            var parts = ["\(tally.created) created", "\(tally.updated) replaced", "\(tally.unchanged) unchanged"]
            if tally.skipped > 0 { parts.append("\(tally.skipped) skipped") }
            lines.append("\(kind): " + parts.joined(separator: ", "))
            if !tally.updatedIDs.isEmpty {
                let shown = tally.updatedIDs.prefix(10).joined(separator: ", ")
                let more = tally.updatedIDs.count > 10 ? " and \(tally.updatedIDs.count - 10) more" : ""
                lines.append("  replaced by LiteLLM's values: \(shown)\(more)")
            }
        }
        if !kept.isEmpty {
            lines.append("kept in litellm_fields (shown back by the admin API, no effect on requests):")
            lines += kept.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value) \($0.value == 1 ? "row" : "rows")" }
        }
        if !dropped.isEmpty {
            lines.append("not carried over (Spanway has no field for them):")
            lines += dropped.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value) \($0.value == 1 ? "row" : "rows")" }
        }
        if !dangling.isEmpty {
            lines.append("links to records the LiteLLM database does not have (imported as they are):")
            lines += dangling.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value) \($0.value == 1 ? "row" : "rows")" }
        }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }
}
