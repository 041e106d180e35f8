import Evaluations
import Store

extension AnalyticsReport {
    /// The report for a terminal: one row per group and a total, latencies as `850ms`/`1.23s`;
    /// when comparing, the change against the previous window beside requests, error rate, p95
    /// and cost.
    public func table(width: Int = 120, color: Bool = false) -> String {
        var columns = (dimensions.isEmpty ? ["group"] : dimensions.map(\.rawValue)).map {
            TextTable.Column($0, alignment: .left, maxWidth: 32)
        }
        let comparing = previous != nil
        var titles = ["requests"] + (comparing ? ["Δ req"] : []) + ["errors"] + (comparing ? ["Δ err"] : [])
        titles += ["p50", "p95"] + (comparing ? ["Δ p95"] : []) + ["p99", "ttft p50", "ttft p95", "overhead p50"]
        titles += ["tokens in", "tokens out", "cost"] + (comparing ? ["Δ cost"] : []) + ["$/1M tok", "out tok/s"]
        columns += titles.map { TextTable.Column($0) }
        var table = TextTable(columns: columns)
        for group in current.groups {
            table.rows.append(row(group, previous: previous(of: group), label: nil))
        }
        if current.groups.count != 1 || !dimensions.isEmpty {
            table.rows.append(row(current.total, previous: previous?.total, label: "total"))
        }
        var text = "Window " + ReportFormat.utc(Double(current.query.since) / 1000) + " – "
        text += ReportFormat.utc(Double(current.query.until) / 1000)
        if let previous {
            text += " (compared with " + ReportFormat.utc(Double(previous.query.since) / 1000) + " – "
            text += ReportFormat.utc(Double(previous.query.until) / 1000) + ")"
        }
        text += "\n\n" + table.render(width: width, color: color)
        let kinds = Self.errorKinds(current.total)
        if !kinds.isEmpty {
            text += "\n\nErrors by kind: " + kinds.map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
        }
        return text + "\n\nPercentiles: " + Self.percentileMethod + ".\n"
    }

    private func row(_ group: AnalyticsGroup, previous: AnalyticsGroup?, label: String?) -> [TextTable.Cell] {
        let comparing = self.previous != nil
        var cells: [TextTable.Cell]
        if let label {
            cells = [TextTable.Cell(label, style: .bold)] + Array(repeating: "", count: max(0, dimensions.count - 1))
        } else if dimensions.isEmpty {
            cells = ["all"]
        } else {
            cells = group.keys.map { TextTable.Cell($0.isEmpty ? "(none)" : $0) }
        }
        cells.append(TextTable.Cell(ReportFormat.integer(group.requests)))
        if comparing { cells.append(change(Double(group.requests), previous.map { Double($0.requests) })) }
        let errorStyle: TextTable.Style = group.errorRate > 0.05 ? .red : group.errors > 0 ? .yellow : .plain
        cells.append(TextTable.Cell(Self.percentText(group.errorRate), style: errorStyle))
        if comparing { cells.append(points(group.errorRate, previous?.errorRate)) }
        cells.append(TextTable.Cell(Self.millis(group.latencyP50Ms)))
        cells.append(TextTable.Cell(Self.millis(group.latencyP95Ms)))
        if comparing { cells.append(change(group.latencyP95Ms, previous?.latencyP95Ms, higherIsWorse: true)) }
        for value in [group.latencyP99Ms, group.timeToFirstTokenP50Ms, group.timeToFirstTokenP95Ms, group.overheadP50Ms] {
            cells.append(TextTable.Cell(Self.millis(value)))
        }
        cells.append(TextTable.Cell(ReportFormat.integer(group.inputTokens)))
        cells.append(TextTable.Cell(ReportFormat.integer(group.outputTokens)))
        cells.append(TextTable.Cell(ReportFormat.usd(group.spend)))
        if comparing { cells.append(change(group.spend, previous?.spend, higherIsWorse: true)) }
        cells.append(TextTable.Cell(group.costPerMillionTokens.map(ReportFormat.usd) ?? "--"))
        cells.append(TextTable.Cell(group.outputTokensPerSecond.map { ReportFormat.fixed($0, digits: 1) } ?? "--"))
        return cells
    }

    /// A relative change: `+12%`, `-3%`, `new` when there was nothing before.
    private func change(_ now: Double?, _ before: Double?, higherIsWorse: Bool = false) -> TextTable.Cell {
        guard let now, let before else { return TextTable.Cell(before == nil && now != nil ? "new" : "--", style: .dim) }
        guard before != 0 else { return TextTable.Cell(now == 0 ? "0%" : "new", style: .dim) }
        let fraction = (now - before) / before
        let text = (fraction >= 0 ? "+" : "") + ReportFormat.fixed(fraction * 100, digits: 0) + "%"
        guard higherIsWorse, abs(fraction) >= 0.1 else { return TextTable.Cell(text) }
        return TextTable.Cell(text, style: fraction > 0 ? .red : .green)
    }

    /// A change of a rate, in percentage points: `+1.5pp`.
    private func points(_ now: Double, _ before: Double?) -> TextTable.Cell {
        guard let before else { return TextTable.Cell("new", style: .dim) }
        let delta = (now - before) * 100
        return TextTable.Cell((delta >= 0 ? "+" : "") + ReportFormat.fixed(delta, digits: 1) + "pp")
    }

    /// A rate with one decimal: `2.5%`.
    static func percentText(_ fraction: Double) -> String {
        ReportFormat.fixed(fraction * 100, digits: 1) + "%"
    }

    /// Milliseconds as a latency (`850ms`, `1.23s`), `--` when nothing was measured.
    static func millis(_ value: Double?) -> String {
        // Just under a second would round to "1000ms".
        value.map { ReportFormat.latency($0 >= 999.5 ? max($0, 1000) / 1000 : $0 / 1000) } ?? "--"
    }
}
