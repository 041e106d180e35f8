/// The results of a run as one self-contained HTML file: what ran, the per-model summary, latency
/// and cost-versus-score charts, pairwise win rates, the items the models disagree on, and every
/// cell with its trace id. No script, no external resource; every string from the data is escaped.
public enum EvalHTMLReport {
    /// Disagreements listed; the JSON report has them all.
    public static let disagreementLimit = 25

    public static func render(_ report: EvalReport) -> String {
        let colors = modelColors(report)
        var body = [header(report, colors: colors)]
        body.append(
            HTMLPage.section(
                "Summary by model", id: "summary",
                note: "Latency from sending to the last byte; scores are means with 95 % confidence intervals.",
                summaryTable(report, colors: colors).render()))
        body.append(
            "<div class=\"charts\">"
                + HTMLPage.section(
                    "Latency distribution", id: "latency", note: "Answered cells; box = quartiles, bar = median, dots = cells.",
                    latencyChart(report, colors: colors))
                + HTMLPage.section(
                    "Cost vs score", id: "cost-score", note: costScoreNote(report), costScoreChart(report, colors: colors))
                + "</div>")
        if !report.pairwise.isEmpty {
            body.append(
                HTMLPage.section(
                    "Pairwise win rates", id: "pairwise",
                    note: "How often the row's answer was judged better than the column's (a tie counts half).",
                    pairwiseMatrix(report).render()))
        }
        body.append(disagreementSection(report))
        body.append(
            HTMLPage.section(
                "Cells", id: "cells", note: "One row per request; the trace id finds it in your tracing backend.",
                HTMLPage.details(summary: "Show all \(report.cells.count) cells", cellTable(report).render())))
        return HTMLPage(title: "Spanway evaluation", subtitle: "Run \(report.runID)", body: body).render()
    }

    static func modelColors(_ report: EvalReport) -> [String: String] {
        var colors: [String: String] = [:]
        for (index, model) in (report.models + report.summaries.map(\.model)).enumerated() where colors[model] == nil {
            colors[model] = SVGPalette.color(index)
        }
        return colors
    }

    static func header(_ report: EvalReport, colors: [String: String]) -> String {
        let tone: String
        switch report.status {
        case .completed: tone = "good"
        case .running: tone = "info"
        case .interrupted: tone = "warn"
        case .budgetExhausted: tone = "bad"
        }
        let outcomes = [EvalCell.Outcome.answered, .failed, .refused, .notRun].compactMap { outcome -> String? in
            let count = report.cells.filter { $0.outcome == outcome }.count
            return count == 0 ? nil : "\(count) \(outcome.rawValue.replacingOccurrences(of: "_", with: " "))"
        }
        var facts: [(label: String, valueHTML: String)] = [
            ("Run", "<code>\(HTML.escape(report.runID))</code>"),
            ("Status", HTMLPage.badge(report.status.rawValue.replacingOccurrences(of: "_", with: " "), tone: tone)),
            ("Started", HTML.escape(ReportFormat.utc(report.startedAt))),
        ]
        if let finishedAt = report.finishedAt {
            facts.append(
                (
                    "Finished",
                    HTML.escape(ReportFormat.utc(finishedAt) + " (" + ReportFormat.duration(finishedAt - report.startedAt) + ")")
                ))
        }
        facts.append(
            (
                "Models",
                report.models.map { HTMLPage.swatch(colors[$0] ?? SVGPalette.color(0)) + HTML.escape($0) }.joined(
                    separator: "<br>")
            ))
        facts.append(
            (
                "Scorers",
                report.scorers.isEmpty ? "<span class=\"muted\">none</span>" : HTML.escape(report.scorers.joined(separator: ", "))
            ))
        facts.append(("Judge", report.judge.map(HTML.escape) ?? "<span class=\"muted\">none</span>"))
        facts.append(
            (
                "Items",
                HTML.escape(
                    "\(ReportFormat.integer(report.itemCount)) × \(report.repeats) repeat" + (report.repeats == 1 ? "" : "s"))
            ))
        facts.append(
            (
                "Cells",
                HTML.escape(
                    "\(ReportFormat.integer(report.cells.count))"
                        + (outcomes.isEmpty ? "" : ": " + outcomes.joined(separator: ", ")))
            ))
        facts.append(("Total cost", HTML.escape(ReportFormat.usd(report.summaries.reduce(0) { $0 + $1.totalCostUSD }))))
        return HTMLPage.section("Run", id: "run", HTMLPage.facts(facts))
    }

    static func summaryTable(_ report: EvalReport, colors: [String: String]) -> HTMLTable {
        var columns: [HTMLTable.Column] = [
            .init("Model"), .init("Sent", numeric: true), .init("Answered", numeric: true), .init("Errors"),
            .init("Refused", numeric: true), .init("p50", numeric: true), .init("p95", numeric: true),
            .init("TTFT p50", numeric: true), .init("Tokens in", numeric: true), .init("Tokens out", numeric: true),
            .init("Cost", numeric: true), .init("Cost/answer", numeric: true),
        ]
        columns += report.scorers.map { HTMLTable.Column($0, numeric: true) }
        var best: [String: Double] = [:]
        for summary in report.summaries {
            for score in summary.scores { best[score.scorer] = max(best[score.scorer] ?? -.infinity, score.mean) }
        }
        let rows = report.summaries.map { summary -> HTMLTable.Row in
            let errors = ReportOrder.compactErrors(summary.errors)
            var cells: [HTMLTable.Cell] = [
                .markup(HTMLPage.swatch(colors[summary.model] ?? SVGPalette.color(0)) + HTML.escape(summary.model)),
                .init(String(summary.sent)), .init(String(summary.answered)),
                errors == "-"
                    ? .init("-", className: "muted")
                    : .markup(
                        ReportOrder.errors(summary.errors).map { HTML.escape("\($0.kind)×\($0.count)") }.joined(
                            separator: "<br>"),
                        className: "bad-text"),
                .init(String(summary.refused), className: summary.refused > 0 ? "warn-text" : nil),
                .init(summary.latencyP50.map(ReportFormat.latency) ?? "-"),
                .init(summary.latencyP95.map(ReportFormat.latency) ?? "-"),
                .init(summary.timeToFirstTokenP50.map(ReportFormat.latency) ?? "-"),
                .init(ReportFormat.integer(summary.inputTokens)), .init(ReportFormat.integer(summary.outputTokens)),
                .init(ReportFormat.usd(summary.totalCostUSD)), .init(summary.costPerAnswerUSD.map(ReportFormat.usd) ?? "-"),
            ]
            for scorer in report.scorers {
                guard let score = summary.scores.first(where: { $0.scorer == scorer }) else {
                    cells.append(.init("-", className: "muted"))
                    continue
                }
                let isBest = report.summaries.count > 1 && score.mean == best[scorer]
                // The interval goes on a second, smaller line so the table fits a laptop screen.
                var html = HTML.escape(ReportFormat.fixed(score.mean, digits: 2))
                if let low = score.low, let high = score.high {
                    html +=
                        " <span class=\"ci\">[" + ReportFormat.fixed(low, digits: 2) + "–" + ReportFormat.fixed(high, digits: 2)
                        + "]</span>"
                }
                cells.append(.markup(html, className: isBest ? "best" : nil, title: "\(score.count) scored cells"))
            }
            return HTMLTable.Row(cells, attributes: [("data-model", summary.model)])
        }
        return HTMLTable(columns: columns, rows: rows, className: "summary")
    }

    static func latencyChart(_ report: EvalReport, colors: [String: String]) -> String {
        let series = report.models.map { model in
            SVGBoxPlot.Series(
                label: model,
                values: report.cells.filter { $0.model == model && $0.outcome == .answered }.compactMap(\.latencySeconds),
                color: colors[model] ?? SVGPalette.color(0))
        }
        guard series.contains(where: { !$0.values.isEmpty }) else { return HTMLPage.empty("No answered cells to chart.") }
        let largest = series.flatMap(\.values).max() ?? 0
        // Few models get taller rows, so the chart is about as tall as the cost-vs-score one beside it.
        let rowHeight = max(34, 270 / Double(series.count))
        let axisLabel = largest < 1 ? "latency (ms)" : "latency (s)"
        return SVGBoxPlot(series: series, axisLabel: axisLabel, width: 540, rowHeight: rowHeight).render { seconds in
            largest < 1 ? ReportFormat.fixed(seconds * 1000, digits: 0) : trimmed(seconds)
        }
    }

    static func costScoreNote(_ report: EvalReport) -> String {
        guard let scorer = report.scorers.first else { return "No scorer ran, so there is no score to plot." }
        return "Cost per answered cell against the mean \(scorer) score; whiskers are 95 % confidence intervals."
    }

    static func costScoreChart(_ report: EvalReport, colors: [String: String]) -> String {
        guard let scorer = report.scorers.first else {
            return HTMLPage.empty("No scores: run with a scorer to compare quality and cost.")
        }
        var points: [SVGScatter.Point] = []
        var missing: [String] = []
        for summary in report.summaries {
            guard let cost = summary.costPerAnswerUSD, let score = summary.scores.first(where: { $0.scorer == scorer }) else {
                missing.append(summary.model)
                continue
            }
            points.append(
                .init(
                    label: summary.model, x: cost, y: score.mean, yLow: score.low, yHigh: score.high,
                    color: colors[summary.model] ?? SVGPalette.color(0)))
        }
        guard !points.isEmpty else { return HTMLPage.empty("No model has both answers and \(scorer) scores.") }
        var html = SVGScatter(
            points: points, xLabel: "cost per answer (USD)", yLabel: "mean \(scorer) score", yDomain: 0...1, width: 540,
            height: 340
        )
        .render(xFormat: ReportFormat.usd, yFormat: { ReportFormat.fixed($0, digits: 1) })
        if !missing.isEmpty {
            html += HTMLPage.empty("Not plotted (no answers or no \(scorer) scores): " + missing.joined(separator: ", "))
        }
        return html
    }

    static func pairwiseMatrix(_ report: EvalReport) -> HTMLTable {
        var models = report.models
        for record in report.pairwise {
            for model in [record.a, record.b] where !models.contains(model) { models.append(model) }
        }
        var cells: [String: (rate: Double, detail: String)] = [:]
        for record in report.pairwise {
            guard let rate = record.winRateA else { continue }
            cells[record.a + "\u{0}" + record.b] = (
                rate, "\(record.a) won \(record.winsA), \(record.b) won \(record.winsB), \(record.ties) ties"
            )
            cells[record.b + "\u{0}" + record.a] = (
                1 - rate, "\(record.b) won \(record.winsB), \(record.a) won \(record.winsA), \(record.ties) ties"
            )
        }
        let rows = models.map { row -> HTMLTable.Row in
            var line: [HTMLTable.Cell] = [.init(row)]
            for column in models {
                if row == column {
                    line.append(.init("—", className: "muted"))
                } else if let cell = cells[row + "\u{0}" + column] {
                    line.append(
                        .init(
                            ReportFormat.fixed(cell.rate, digits: 2), title: cell.detail,
                            style: "background:" + SVGPalette.shade(cell.rate)))
                } else {
                    line.append(.init("-", className: "muted"))
                }
            }
            return HTMLTable.Row(line)
        }
        return HTMLTable(
            columns: [HTMLTable.Column("row beats column")] + models.map { HTMLTable.Column($0, numeric: true) }, rows: rows,
            className: "compact")
    }

    static func disagreementSection(_ report: EvalReport) -> String {
        guard !report.disagreements.isEmpty else {
            return HTMLPage.section(
                "Where the models disagree", id: "disagreements", HTMLPage.empty("No item was scored differently."))
        }
        let shown = report.disagreements.prefix(disagreementLimit)
        let columns =
            [HTMLTable.Column("Item"), HTMLTable.Column("Spread", numeric: true)]
            + report.models.map { HTMLTable.Column($0, numeric: true) }
        let rows = shown.map { disagreement -> [HTMLTable.Cell] in
            [.init(disagreement.itemID, className: "mono"), .init(ReportFormat.fixed(disagreement.spread, digits: 2))]
                + report.models.map { model in
                    guard let score = disagreement.scores[model] else { return HTMLTable.Cell("-", className: "muted") }
                    return HTMLTable.Cell(ReportFormat.fixed(score, digits: 2), style: "background:" + SVGPalette.shade(score))
                }
        }.map { HTMLTable.Row($0) }
        let note =
            "Mean score per model on the item (all scorers averaged); spread = highest − lowest. "
            + "Showing \(shown.count) of \(report.disagreements.count)."
        return HTMLPage.section(
            "Where the models disagree", id: "disagreements", note: note,
            HTMLTable(columns: columns, rows: rows, className: "compact").render())
    }

    static func cellTable(_ report: EvalReport) -> HTMLTable {
        var columns: [HTMLTable.Column] = [
            .init("Item"), .init("Model"), .init("#", numeric: true), .init("Outcome"), .init("Status", numeric: true),
            .init("Error"), .init("Latency", numeric: true), .init("TTFT", numeric: true), .init("In", numeric: true),
            .init("Out", numeric: true), .init("Cost", numeric: true),
        ]
        columns += report.scorers.map { HTMLTable.Column($0, numeric: true) }
        columns += [.init("Answer"), .init("Judge's reason"), .init("Trace id"), .init("Span id")]
        let rows = report.cells.map { cell -> HTMLTable.Row in
            var line: [HTMLTable.Cell] = [
                .init(cell.itemID, className: "mono"), .init(cell.model), .init(String(cell.sample)),
                .markup(
                    HTMLPage.badge(
                        cell.outcome.rawValue.replacingOccurrences(of: "_", with: " "), tone: outcomeTone(cell.outcome))),
                .init(cell.statusCode.map(String.init) ?? "-"),
                .init(cell.errorKind ?? "", className: "bad-text", title: cell.errorMessage),
                .init(cell.latencySeconds.map(ReportFormat.latency) ?? "-"),
                .init(cell.timeToFirstTokenSeconds.map(ReportFormat.latency) ?? "-"),
                .init(String(cell.inputTokens)), .init(String(cell.outputTokens)), .init(ReportFormat.usd(cell.costUSD)),
            ]
            line += report.scorers.map { scorer in
                HTMLTable.Cell(cell.scores[scorer].map { ReportFormat.fixed($0, digits: 2) } ?? "-")
            }
            line += [
                .markup("<div class=\"answer\">" + HTML.escape(cell.answer ?? cell.errorMessage ?? "") + "</div>"),
                .markup("<div class=\"answer\">" + HTML.escape(cell.judgeReason ?? "") + "</div>"),
                .init(cell.traceID, className: "mono"), .init(cell.spanID, className: "mono"),
            ]
            return HTMLTable.Row(line, attributes: [("data-trace-id", cell.traceID)])
        }
        return HTMLTable(columns: columns, rows: rows, className: "cells")
    }

    static func outcomeTone(_ outcome: EvalCell.Outcome) -> String {
        switch outcome {
        case .answered: "good"
        case .failed: "bad"
        case .refused: "warn"
        case .notRun: "neutral"
        }
    }

    /// Seconds with up to two decimals and no trailing zeros, for axis ticks: `0.5`, `1.25`, `3`.
    static func trimmed(_ value: Double) -> String {
        var text = ReportFormat.fixed(value, digits: 2)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
        return text
    }
}
