/// Horizontal box plots, one row per series, over a strip of every value: the box spans the
/// quartiles, the thick line is the median, whiskers reach the furthest values within 1.5 × IQR
/// (Tukey), and each value is a faint dot jittered vertically so dense clusters stay visible.
public struct SVGBoxPlot: Sendable {
    public struct Series: Sendable {
        public var label: String
        public var values: [Double]
        public var color: String

        public init(label: String, values: [Double], color: String) {
            self.label = label
            self.values = values
            self.color = color
        }
    }

    public var series: [Series]
    public var axisLabel: String
    public var width: Double
    public var rowHeight: Double

    public init(series: [Series], axisLabel: String, width: Double = 600, rowHeight: Double = 38) {
        self.series = series
        self.axisLabel = axisLabel
        self.width = width
        self.rowHeight = rowHeight
    }

    /// The chart; `format` writes tick labels and the hover summary of each box.
    public func render(format: (Double) -> String) -> String {
        let labelWidth = min(190, (series.map { SVGChart.estimatedWidth($0.label) }.max() ?? 40) + 14)
        let chart = SVGChart(
            width: width, height: 14 + rowHeight * Double(max(1, series.count)) + 48,
            margin: .init(top: 14, right: 24, bottom: 48, left: max(70, labelWidth))
        )
        let scale = SVGScale.linear(
            covering: series.flatMap(\.values), lowerPixel: chart.plotLeft, upperPixel: chart.plotRight
        )
        var svg = chart.bottomAxis(scale, label: axisLabel, format: format)
        for (row, item) in series.enumerated() {
            let center = chart.plotTop + rowHeight * (Double(row) + 0.5)
            let label = DisplayWidth.truncate(item.label, to: Int((labelWidth - 14) / 6.6))
            svg += "<g><title>\(HTML.escape(item.label))</title>"
            svg += chart.text(label, x: chart.plotLeft - 8, y: center + 4, anchor: "end") + "</g>"
            guard let summary = Summary(item.values) else {
                svg += chart.text("no answers", x: chart.plotLeft + 8, y: center + 4, className: "axis-label")
                continue
            }
            svg += strip(item, center: center, scale: scale)
            svg += box(summary, item: item, center: center, scale: scale, chart: chart, format: format)
        }
        return chart.svg(label: axisLabel + " by series", svg)
    }

    private func strip(_ item: Series, center: Double, scale: SVGScale) -> String {
        var svg = "<g fill=\"\(HTML.escape(item.color))\" fill-opacity=\"0.45\">"
        for (index, value) in item.values.enumerated() where value.isFinite {
            // Golden-ratio jitter: deterministic, evenly spread, no random numbers in the output.
            let fraction = (Double(index) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1)
            let y = center + (fraction - 0.5) * rowHeight * 0.62
            svg += "<circle cx=\"\(SVGChart.number(scale.position(value)))\" cy=\"\(SVGChart.number(y))\" r=\"2.4\"/>"
        }
        return svg + "</g>"
    }

    private func box(
        _ summary: Summary, item: Series, center: Double, scale: SVGScale, chart: SVGChart, format: (Double) -> String
    ) -> String {
        let half = rowHeight * 0.24
        let color = HTML.escape(item.color)
        let q1 = scale.position(summary.q1)
        let q3 = scale.position(summary.q3)
        let hover =
            "\(item.label): n=\(item.values.count), median \(format(summary.median)), "
            + "quartiles \(format(summary.q1))–\(format(summary.q3)), range \(format(summary.min))–\(format(summary.max))"
        var svg = "<g><title>\(HTML.escape(hover))</title>"
        svg += chart.line(
            x1: scale.position(summary.lowWhisker), y1: center, x2: q1, y2: center, stroke: item.color, width: 1.5)
        svg += chart.line(
            x1: q3, y1: center, x2: scale.position(summary.highWhisker), y2: center, stroke: item.color, width: 1.5)
        for whisker in [summary.lowWhisker, summary.highWhisker] {
            let x = scale.position(whisker)
            svg += chart.line(x1: x, y1: center - half / 2, x2: x, y2: center + half / 2, stroke: item.color, width: 1.5)
        }
        svg += "<rect x=\"\(SVGChart.number(q1))\" y=\"\(SVGChart.number(center - half))\" "
        svg += "width=\"\(SVGChart.number(max(1, q3 - q1)))\" height=\"\(SVGChart.number(half * 2))\" rx=\"2\" "
        svg += "fill=\"\(color)\" fill-opacity=\"0.22\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
        let median = scale.position(summary.median)
        svg += chart.line(x1: median, y1: center - half, x2: median, y2: center + half, stroke: item.color, width: 3)
        return svg + "</g>"
    }
}

extension SVGBoxPlot {
    /// Quartiles by linear interpolation between order statistics (Hyndman & Fan type 7, the
    /// default of R and NumPy), and Tukey's whiskers.
    public struct Summary: Sendable, Equatable {
        public var min: Double
        public var q1: Double
        public var median: Double
        public var q3: Double
        public var max: Double
        public var lowWhisker: Double
        public var highWhisker: Double

        public init?(_ values: [Double]) {
            let sorted = values.filter(\.isFinite).sorted()
            guard let first = sorted.first, let last = sorted.last else { return nil }
            min = first
            max = last
            q1 = Self.quantile(sorted, 0.25)
            median = Self.quantile(sorted, 0.5)
            q3 = Self.quantile(sorted, 0.75)
            let reach = 1.5 * (q3 - q1)
            let lowFence = q1 - reach
            let highFence = q3 + reach
            lowWhisker = sorted.first { $0 >= lowFence } ?? first
            highWhisker = sorted.last { $0 <= highFence } ?? last
        }

        static func quantile(_ sorted: [Double], _ p: Double) -> Double {
            let position = p * Double(sorted.count - 1)
            let below = Int(position.rounded(.down))
            let above = Swift.min(below + 1, sorted.count - 1)
            let fraction = position - Double(below)
            return sorted[below] + (sorted[above] - sorted[below]) * fraction
        }
    }
}
