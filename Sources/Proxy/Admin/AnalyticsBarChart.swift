import Evaluations

/// Horizontal grouped bars, one row per group and one bar per series (p50, p95, p99; this window
/// and the previous one): what the analytics report draws, in the evaluation report's SVG kit.
struct AnalyticsBarChart: Sendable {
    struct Series: Sendable {
        var name: String
        var color: String
        /// Drawn faint (the previous window).
        var faded = false
    }

    struct Row: Sendable {
        var label: String
        /// One value per series; nil draws no bar.
        var values: [Double?]
    }

    var series: [Series]
    var rows: [Row]
    var axisLabel: String
    var width: Double = 600

    func render(format: (Double) -> String) -> String {
        let barHeight = 9.0
        let rowHeight = barHeight * Double(series.count) + 12
        let labelWidth = min(200, (rows.map { SVGChart.estimatedWidth($0.label) }.max() ?? 40) + 14)
        let legendHeight = 22.0
        let chart = SVGChart(
            width: width, height: legendHeight + rowHeight * Double(max(1, rows.count)) + 48,
            margin: .init(top: legendHeight, right: 24, bottom: 48, left: max(70, labelWidth)))
        let values = rows.flatMap { $0.values.compactMap { $0 } }
        let scale = SVGScale.linear(covering: values, lowerPixel: chart.plotLeft, upperPixel: chart.plotRight)
        var svg = chart.bottomAxis(scale, label: axisLabel, format: format)
        var legendX = chart.plotLeft
        for item in series {
            svg += "<rect x=\"\(SVGChart.number(legendX))\" y=\"6\" width=\"10\" height=\"10\" rx=\"2\" "
            svg += "fill=\"\(HTML.escape(item.color))\"\(item.faded ? " fill-opacity=\"0.4\"" : "")/>"
            svg += chart.text(item.name, x: legendX + 14, y: 15)
            legendX += 24 + SVGChart.estimatedWidth(item.name)
        }
        for (index, row) in rows.enumerated() {
            let top = chart.plotTop + rowHeight * Double(index) + 6
            let label = DisplayWidth.truncate(row.label, to: Int((labelWidth - 14) / 6.6))
            svg += "<g><title>\(HTML.escape(row.label))</title>"
            svg += chart.text(label, x: chart.plotLeft - 8, y: top + rowHeight / 2 - 2, anchor: "end") + "</g>"
            for (position, item) in series.enumerated() {
                guard position < row.values.count, let value = row.values[position], value.isFinite else { continue }
                let y = top + barHeight * Double(position)
                let x0 = scale.position(min(0, value))
                let x1 = scale.position(max(0, value))
                svg += "<rect x=\"\(SVGChart.number(x0))\" y=\"\(SVGChart.number(y))\" "
                svg += "width=\"\(SVGChart.number(max(1, x1 - x0)))\" height=\"\(SVGChart.number(barHeight - 1.5))\" "
                svg += "fill=\"\(HTML.escape(item.color))\"\(item.faded ? " fill-opacity=\"0.4\"" : "")>"
                svg += "<title>\(HTML.escape("\(row.label) — \(item.name): \(format(value))"))</title></rect>"
            }
        }
        return chart.svg(label: axisLabel, svg)
    }
}
