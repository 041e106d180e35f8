extension EvalReport {
    /// One row per cell, with a header row: the run's identifiers, the outcome, timings, tokens and
    /// cost, one `score_<scorer>` column per scorer in `scorers` order, and the trace and span ids
    /// that link the row to its trace, then the answer and the error message (text fields are
    /// guarded against formula injection). Absent values are empty fields.
    public var csv: String {
        var writer = CSVWriter()
        writer.header(
            [
                "run_id", "item_id", "model", "sample", "outcome", "status_code", "error_kind", "latency_seconds",
                "ttft_seconds", "input_tokens", "output_tokens", "cost_usd",
            ]
                + scorers.map { "score_" + $0 } + ["trace_id", "span_id", "answer", "error_message"]
        )
        for cell in cells {
            var fields: [CSVWriter.Field] = [
                .text(runID), .text(cell.itemID), .text(cell.model), .number(String(cell.sample)),
                .text(cell.outcome.rawValue), cell.statusCode.map { .number(String($0)) } ?? .empty,
                cell.errorKind.map(CSVWriter.Field.text) ?? .empty, Self.number(cell.latencySeconds),
                Self.number(cell.timeToFirstTokenSeconds), .number(String(cell.inputTokens)),
                .number(String(cell.outputTokens)), Self.number(cell.costUSD),
            ]
            fields += scorers.map { Self.number(cell.scores[$0]) }
            fields += [.text(cell.traceID), .text(cell.spanID)]
            fields += [cell.answer.map(CSVWriter.Field.text) ?? .empty, cell.errorMessage.map(CSVWriter.Field.text) ?? .empty]
            writer.row(fields)
        }
        return writer.output
    }

    private static func number(_ value: Double?) -> CSVWriter.Field {
        guard let value, value.isFinite else { return .empty }
        return .number(ReportFormat.plain(value))
    }
}
