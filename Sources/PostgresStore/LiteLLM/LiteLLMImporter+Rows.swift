import Store
import Telemetry

extension LiteLLMImporter {
    /// Reports what a finished row could not carry: values kept without effect, columns dropped,
    /// model names with no Spanway meaning.
    mutating func finish(_ row: LiteLLMRow, kept: [String] = []) {
        report.kept(row.table, kept)
        report.dropped(row.table, row.unreadValues)
        for name in row.droppedModelNames.sorted() { report.dropped(row.table, ["models (\(name))"]) }
    }

    /// A row without the id a record needs (none in a database LiteLLM wrote).
    mutating func skip(_ kind: String, _ table: String, missing column: String) {
        report.record(kind) { $0.skipped += 1 }
        report.dropped(table, ["row without \(column)"])
    }
}
