/// The results of a run as terminal text: a per-model summary, pairwise win rates when a judge
/// compared answers, and the items the models disagree on most.
public struct EvalTable: Sendable {
    /// How many disagreements the table lists; the JSON and HTML reports have them all.
    public static let disagreementLimit = 10

    /// `width` is the terminal's; columns that do not fit continue in a second block. ANSI colours
    /// only when `color` (a TTY that did not set `NO_COLOR`). No trailing newline: `print` adds one.
    public static func render(_ report: EvalReport, width: Int = 120, color: Bool) -> String {
        var sections: [String] = [title(report, color: color)]
        sections.append(summaryTable(report).render(width: width, color: color))
        if !report.pairwise.isEmpty {
            let heading = "Pairwise win rates" + (report.judge.map { " (judge: \($0))" } ?? "")
            sections.append(styled(heading, .bold, color) + "\n" + pairwiseTable(report).render(width: width, color: color))
        }
        if !report.disagreements.isEmpty {
            let shown = min(report.disagreements.count, disagreementLimit)
            let heading = "Items where the models disagree most (top \(shown) of \(report.disagreements.count))"
            sections.append(
                styled(heading, .bold, color) + "\n" + disagreementTable(report, limit: shown).render(width: width, color: color)
            )
        }
        return sections.joined(separator: "\n\n")
    }

    static func title(_ report: EvalReport, color: Bool) -> String {
        var parts = ["Evaluation \(report.runID)", report.status.rawValue]
        parts.append("\(report.models.count) models × \(report.itemCount) items × \(report.repeats) repeats")
        if !report.scorers.isEmpty { parts.append("scorers: " + report.scorers.joined(separator: ", ")) }
        if let finishedAt = report.finishedAt {
            parts.append(ReportFormat.duration(finishedAt - report.startedAt))
        }
        return styled(parts.joined(separator: " · "), .bold, color)
    }

    static func summaryTable(_ report: EvalReport) -> TextTable {
        var columns: [TextTable.Column] = [
            .init("model", alignment: .left), .init("sent"), .init("answered"), .init("errors", alignment: .left, maxWidth: 48),
            .init("refused"), .init("p50"), .init("p95"), .init("ttft p50"), .init("tokens in"), .init("tokens out"),
            .init("cost"), .init("cost/answer"),
        ]
        columns += report.scorers.map { TextTable.Column($0) }
        var best: [String: Double] = [:]
        for summary in report.summaries {
            for score in summary.scores { best[score.scorer] = max(best[score.scorer] ?? -.infinity, score.mean) }
        }
        let rows = report.summaries.map { summary -> [TextTable.Cell] in
            let errors = ReportOrder.compactErrors(summary.errors)
            var row: [TextTable.Cell] = [
                .init(summary.model, style: .cyan), .init(String(summary.sent)), .init(String(summary.answered)),
                .init(errors, style: errors == "-" ? .plain : .red),
                .init(String(summary.refused), style: summary.refused > 0 ? .yellow : .plain),
                .init(latency(summary.latencyP50)), .init(latency(summary.latencyP95)),
                .init(latency(summary.timeToFirstTokenP50)), .init(ReportFormat.integer(summary.inputTokens)),
                .init(ReportFormat.integer(summary.outputTokens)), .init(ReportFormat.usd(summary.totalCostUSD)),
                .init(summary.costPerAnswerUSD.map(ReportFormat.usd) ?? "-"),
            ]
            for scorer in report.scorers {
                guard let score = summary.scores.first(where: { $0.scorer == scorer }) else {
                    row.append("-")
                    continue
                }
                let isBest = report.summaries.count > 1 && score.mean == best[scorer]
                row.append(
                    .init(ReportFormat.score(mean: score.mean, low: score.low, high: score.high), style: isBest ? .green : .plain)
                )
            }
            return row
        }
        return TextTable(columns: columns, rows: rows)
    }

    static func pairwiseTable(_ report: EvalReport) -> TextTable {
        let columns: [TextTable.Column] = [
            .init("model a", alignment: .left), .init("model b", alignment: .left), .init("a wins"), .init("b wins"),
            .init("ties"), .init("a win rate"),
        ]
        let rows = report.pairwise.map { record -> [TextTable.Cell] in
            [
                .init(record.a, style: .cyan), .init(record.b, style: .cyan), .init(String(record.winsA)),
                .init(String(record.winsB)), .init(String(record.ties)),
                .init(record.winRateA.map { ReportFormat.fixed($0, digits: 2) } ?? "-"),
            ]
        }
        return TextTable(columns: columns, rows: rows)
    }

    static func disagreementTable(_ report: EvalReport, limit: Int) -> TextTable {
        let columns =
            [TextTable.Column("item", alignment: .left), TextTable.Column("spread")]
            + report.models.map { TextTable.Column($0) }
        let rows = report.disagreements.prefix(limit).map { disagreement -> [TextTable.Cell] in
            [.init(disagreement.itemID), .init(ReportFormat.fixed(disagreement.spread, digits: 2))]
                + report.models.map { model in
                    TextTable.Cell(disagreement.scores[model].map { ReportFormat.fixed($0, digits: 2) } ?? "-")
                }
        }
        return TextTable(columns: columns, rows: rows)
    }

    private static func latency(_ seconds: Double?) -> String {
        seconds.map(ReportFormat.latency) ?? "-"
    }

    private static func styled(_ text: String, _ style: TextTable.Style, _ color: Bool) -> String {
        color ? "\u{1B}[\(style.rawValue)m" + text + "\u{1B}[0m" : text
    }
}
