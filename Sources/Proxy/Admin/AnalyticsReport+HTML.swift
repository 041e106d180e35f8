import Evaluations
import Store

extension AnalyticsReport {
    /// Groups drawn in the charts; the table lists them all.
    static let chartedGroups = 20

    /// A self-contained HTML page in the evaluation report's style: the overview, charts of
    /// latency, time to first token, requests and cost per group, the table of every group, and
    /// errors by kind. No script, nothing fetched.
    public func html() -> String {
        var subtitle = "Window " + Self.time(current.query.since) + " – " + Self.time(current.query.until)
        if !dimensions.isEmpty { subtitle += " · grouped by " + dimensions.map(\.rawValue).joined(separator: ", ") }
        if let previous {
            subtitle += " · compared with " + Self.time(previous.query.since) + " – " + Self.time(previous.query.until)
        }
        var body = [overview()]
        if !current.groups.isEmpty { body.append("<div class=\"charts\">" + charts().joined() + "</div>") }
        body.append(groupTable())
        body.append(errorTable())
        body.append(
            HTMLPage.section(
                "Method", id: "method",
                "<p class=\"note\">Percentiles: \(HTML.escape(Self.percentileMethod)). Latency is the whole request as "
                    + "the gateway saw it; time to first token is measured from the start of the answering upstream "
                    + "call (streamed requests only); overhead is latency minus time spent waiting on upstreams. "
                    + "Output tokens per second is Σ output tokens ÷ Σ (upstream time − time to first token) over "
                    + "successful requests with output. Rows written before the ledger recorded latency count in "
                    + "requests, tokens and cost but not in the percentiles.</p>"))
        return HTMLPage(title: "Spanway analytics", subtitle: subtitle, body: body).render()
    }

    private static func time(_ millis: Int64) -> String { ReportFormat.utc(Double(millis) / 1000) }

    private func overview() -> String {
        let total = current.total
        let before = previous?.total
        func fact(_ label: String, _ text: String, _ earlier: String?) -> (label: String, valueHTML: String) {
            var html = HTML.escape(text)
            if let earlier { html += "<span class=\"ci\">previous: \(HTML.escape(earlier))</span>" }
            return (label, html)
        }
        let facts: [(label: String, valueHTML: String)] = [
            fact("Requests", ReportFormat.integer(total.requests), before.map { ReportFormat.integer($0.requests) }),
            fact("Error rate", Self.percentText(total.errorRate), before.map { Self.percentText($0.errorRate) }),
            fact(
                "Latency p50 / p95 / p99", Self.triple(total.latencyP50Ms, total.latencyP95Ms, total.latencyP99Ms),
                before.map { Self.triple($0.latencyP50Ms, $0.latencyP95Ms, $0.latencyP99Ms) }),
            fact(
                "Time to first token p50 / p95",
                Self.millis(total.timeToFirstTokenP50Ms) + " / " + Self.millis(total.timeToFirstTokenP95Ms),
                before.map { Self.millis($0.timeToFirstTokenP50Ms) + " / " + Self.millis($0.timeToFirstTokenP95Ms) }),
            fact("Gateway overhead p50", Self.millis(total.overheadP50Ms), before.map { Self.millis($0.overheadP50Ms) }),
            fact(
                "Tokens in / out", ReportFormat.integer(total.inputTokens) + " / " + ReportFormat.integer(total.outputTokens),
                before.map { ReportFormat.integer($0.inputTokens) + " / " + ReportFormat.integer($0.outputTokens) }),
            fact("Cost", ReportFormat.usd(total.spend), before.map { ReportFormat.usd($0.spend) }),
            fact(
                "Cost per 1M tokens", total.costPerMillionTokens.map(ReportFormat.usd) ?? "--",
                before.map { $0.costPerMillionTokens.map(ReportFormat.usd) ?? "--" }),
            fact(
                "Output tokens / s", total.outputTokensPerSecond.map { ReportFormat.fixed($0, digits: 1) } ?? "--",
                before.map { $0.outputTokensPerSecond.map { ReportFormat.fixed($0, digits: 1) } ?? "--" }),
        ]
        return HTMLPage.section("Overview", id: "overview", HTMLPage.facts(facts))
    }

    private static func triple(_ a: Double?, _ b: Double?, _ c: Double?) -> String {
        [a, b, c].map(millis).joined(separator: " / ")
    }

    private func charts() -> [String] {
        let groups = Array(current.groups.prefix(Self.chartedGroups))
        let note = current.groups.count > groups.count ? "The first \(groups.count) of \(current.groups.count) groups." : nil
        func label(_ group: AnalyticsGroup) -> String { Self.label(group.keys) }
        let colors = (0..<3).map(SVGPalette.color)
        var charts: [String] = []
        let latency = AnalyticsBarChart(
            series: [
                .init(name: "p50", color: colors[0]), .init(name: "p95", color: colors[1]), .init(name: "p99", color: colors[2]),
            ],
            rows: groups.map { .init(label: label($0), values: [$0.latencyP50Ms, $0.latencyP95Ms, $0.latencyP99Ms]) },
            axisLabel: "latency (ms)")
        charts.append(HTMLPage.section("Latency", id: "latency-chart", note: note, latency.render(format: Self.axisNumber)))
        if groups.contains(where: { $0.timeToFirstTokenP50Ms != nil }) {
            let ttft = AnalyticsBarChart(
                series: [.init(name: "p50", color: colors[0]), .init(name: "p95", color: colors[1])],
                rows: groups.map { .init(label: label($0), values: [$0.timeToFirstTokenP50Ms, $0.timeToFirstTokenP95Ms]) },
                axisLabel: "time to first token (ms)")
            charts.append(
                HTMLPage.section("Time to first token", id: "ttft-chart", note: note, ttft.render(format: Self.axisNumber)))
        }
        let comparing = previous != nil
        func withPrevious(_ name: String, _ value: (AnalyticsGroup) -> Double) -> AnalyticsBarChart {
            AnalyticsBarChart(
                series: [.init(name: "this window", color: SVGPalette.color(0))]
                    + (comparing ? [.init(name: "previous window", color: SVGPalette.color(0), faded: true)] : []),
                rows: groups.map { group in
                    .init(label: label(group), values: [value(group)] + (comparing ? [self.previous(of: group).map(value)] : []))
                },
                axisLabel: name)
        }
        let requests = AnalyticsBarChart(
            series: [.init(name: "succeeded", color: SVGPalette.color(4)), .init(name: "failed", color: SVGPalette.color(2))],
            rows: groups.map { .init(label: label($0), values: [Double($0.requests - $0.errors), Double($0.errors)]) },
            axisLabel: "requests")
        charts.append(
            HTMLPage.section("Requests and errors", id: "requests-chart", note: note, requests.render(format: Self.axisNumber)))
        charts.append(
            HTMLPage.section(
                "Cost", id: "cost-chart", note: note,
                withPrevious("cost (USD)", \.spend).render(format: { ReportFormat.usd($0) })))
        return charts
    }

    private static func axisNumber(_ value: Double) -> String {
        value.rounded() == value ? ReportFormat.integer(Int(value)) : ReportFormat.plain(value)
    }

    private func groupTable() -> String {
        let comparing = previous != nil
        var columns = (dimensions.isEmpty ? ["group"] : dimensions.map(\.rawValue)).map { HTMLTable.Column($0) }
        let numeric = [
            "requests", "error rate", "fallbacks", "p50", "p95", "p99", "ttft p50", "ttft p95", "overhead p50", "tokens in",
            "tokens out", "cost", "$/1M tokens", "out tok/s",
        ]
        columns += numeric.map { HTMLTable.Column($0, numeric: true) }
        var rows = current.groups.map { group in
            HTMLTable.Row(
                keyCells(group.keys) + cells(group, previous: comparing ? self.previous(of: group) : nil),
                attributes: [("data-group", Self.label(group.keys))])
        }
        let totalCells =
            [HTMLTable.Cell.markup("<strong>total</strong>")]
            + Array(repeating: HTMLTable.Cell(""), count: max(0, dimensions.count - 1))
        rows.append(HTMLTable.Row(totalCells + cells(current.total, previous: previous?.total), attributes: [("class", "total")]))
        let note = comparing ? "Under each figure: the previous window's." : nil
        return HTMLPage.section(
            "Groups", id: "groups", note: note, HTMLTable(columns: columns, rows: rows, className: "summary").render())
    }

    private func keyCells(_ keys: [String]) -> [HTMLTable.Cell] {
        guard !dimensions.isEmpty else { return ["all"] }
        return keys.map { $0.isEmpty ? HTMLTable.Cell("(none)", className: "muted") : HTMLTable.Cell($0) }
    }

    private func cells(_ group: AnalyticsGroup, previous: AnalyticsGroup?) -> [HTMLTable.Cell] {
        let comparing = self.previous != nil
        func cell(_ text: (AnalyticsGroup) -> String, className: String? = nil) -> HTMLTable.Cell {
            var html = HTML.escape(text(group))
            if comparing { html += "<span class=\"ci\">\(HTML.escape(previous.map(text) ?? "--"))</span>" }
            return .markup(html, className: className)
        }
        let errorClass = group.errorRate > 0.05 ? "bad-text" : group.errors > 0 ? "warn-text" : nil
        return [
            cell { ReportFormat.integer($0.requests) }, cell({ Self.percentText($0.errorRate) }, className: errorClass),
            cell { ReportFormat.integer($0.fallbacks) }, cell { Self.millis($0.latencyP50Ms) },
            cell { Self.millis($0.latencyP95Ms) }, cell { Self.millis($0.latencyP99Ms) },
            cell { Self.millis($0.timeToFirstTokenP50Ms) }, cell { Self.millis($0.timeToFirstTokenP95Ms) },
            cell { Self.millis($0.overheadP50Ms) }, cell { ReportFormat.integer($0.inputTokens) },
            cell { ReportFormat.integer($0.outputTokens) }, cell { ReportFormat.usd($0.spend) },
            cell { $0.costPerMillionTokens.map(ReportFormat.usd) ?? "--" },
            cell { $0.outputTokensPerSecond.map { ReportFormat.fixed($0, digits: 1) } ?? "--" },
        ]
    }

    private func errorTable() -> String {
        let kinds = Self.errorKinds(current.total)
        guard !kinds.isEmpty else {
            return HTMLPage.section("Errors by kind", id: "errors", HTMLPage.empty("No request failed in this window."))
        }
        let groups = current.groups.filter { $0.errors > 0 }
        let columns =
            [HTMLTable.Column("kind"), HTMLTable.Column("all", numeric: true)]
            + (dimensions.isEmpty ? [] : groups.map { HTMLTable.Column(Self.label($0.keys), numeric: true) })
        let rows = kinds.map { kind in
            HTMLTable.Row(
                [HTMLTable.Cell(kind.kind, className: "mono"), HTMLTable.Cell(ReportFormat.integer(kind.count))]
                    + (dimensions.isEmpty
                        ? [] : groups.map { HTMLTable.Cell(ReportFormat.integer($0.errorsByKind[kind.kind] ?? 0)) }),
                attributes: [("data-error-kind", kind.kind)])
        }
        return HTMLPage.section(
            "Errors by kind", id: "errors",
            note: "A status outside 2xx, or an error type; http_<status> when the ledger names none.",
            HTMLTable(columns: columns, rows: rows, className: "compact").render())
    }
}
