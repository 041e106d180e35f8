/// A labelled scatter plot: one dot per point, an optional vertical whisker for an interval on y
/// (a confidence interval), and the point's label beside it.
public struct SVGScatter: Sendable {
    public struct Point: Sendable {
        public var label: String
        public var x: Double
        public var y: Double
        public var yLow: Double?
        public var yHigh: Double?
        public var color: String

        public init(label: String, x: Double, y: Double, yLow: Double? = nil, yHigh: Double? = nil, color: String) {
            self.label = label
            self.x = x
            self.y = y
            self.yLow = yLow
            self.yHigh = yHigh
            self.color = color
        }
    }

    public var points: [Point]
    public var xLabel: String
    public var yLabel: String
    /// A fixed y domain (scores live in 0…1); nil fits the data.
    public var yDomain: ClosedRange<Double>?
    /// Log x when the values span more than this ratio (costs of different models often differ
    /// 100-fold, which would squash the cheap ones against the axis); nil never.
    public var logXAboveRatio: Double?
    public var width: Double
    public var height: Double

    public init(
        points: [Point], xLabel: String, yLabel: String, yDomain: ClosedRange<Double>? = nil,
        logXAboveRatio: Double? = 20, width: Double = 600, height: Double = 360
    ) {
        self.points = points
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yDomain = yDomain
        self.logXAboveRatio = logXAboveRatio
        self.width = width
        self.height = height
    }

    public func render(xFormat: (Double) -> String, yFormat: (Double) -> String) -> String {
        let chart = SVGChart(width: width, height: height, margin: .init(top: 16, right: 28, bottom: 50, left: 62))
        let xs = points.map(\.x).filter(\.isFinite)
        let positive = xs.filter { $0 > 0 }
        let useLog =
            logXAboveRatio.map { ratio in
                positive.count == xs.count && positive.count >= 2 && (positive.max() ?? 1) / (positive.min() ?? 1) > ratio
            } ?? false
        var xScale =
            useLog
            ? SVGScale.log(covering: xs, lowerPixel: chart.plotLeft, upperPixel: chart.plotRight)
            : SVGScale.linear(covering: xs, lowerPixel: chart.plotLeft, upperPixel: chart.plotRight)
        if !useLog, xScale.upper == xs.max() ?? 0, xScale.upper > 0 {
            // Leave room right of the largest point for its label's dot.
            xScale = SVGScale.linear(
                covering: xs + [xScale.upper * 1.08], lowerPixel: chart.plotLeft, upperPixel: chart.plotRight)
        }
        let yValues = points.flatMap { [$0.y, $0.yLow, $0.yHigh].compactMap { $0 } }
        let yScale =
            yDomain.map {
                SVGScale(
                    kind: .linear, lower: $0.lowerBound, upper: $0.upperBound, lowerPixel: chart.plotBottom,
                    upperPixel: chart.plotTop)
            } ?? SVGScale.linear(covering: yValues, lowerPixel: chart.plotBottom, upperPixel: chart.plotTop)

        var svg = chart.bottomAxis(xScale, label: xLabel + (useLog ? " (log scale)" : ""), format: xFormat)
        svg += chart.leftAxis(yScale, label: yLabel, format: yFormat)
        var placed: [(x: Double, y: Double, width: Double)] = []
        for point in points where point.x.isFinite && point.y.isFinite {
            let x = xScale.position(point.x)
            let y = yScale.position(point.y)
            var hover = "\(point.label): \(xFormat(point.x)), \(yFormat(point.y))"
            if let low = point.yLow, let high = point.yHigh { hover += " [\(yFormat(low))–\(yFormat(high))]" }
            svg += "<g><title>\(HTML.escape(hover))</title>"
            if let low = point.yLow, let high = point.yHigh {
                let top = yScale.position(high)
                let bottom = yScale.position(low)
                svg += chart.line(x1: x, y1: top, x2: x, y2: bottom, stroke: point.color, width: 1.5)
                svg += chart.line(x1: x - 5, y1: top, x2: x + 5, y2: top, stroke: point.color, width: 1.5)
                svg += chart.line(x1: x - 5, y1: bottom, x2: x + 5, y2: bottom, stroke: point.color, width: 1.5)
            }
            svg +=
                "<circle cx=\"\(SVGChart.number(x))\" cy=\"\(SVGChart.number(y))\" r=\"6\" fill=\"\(HTML.escape(point.color))\" "
            svg += "stroke=\"#ffffff\" stroke-width=\"1.5\"/>"
            let label = DisplayWidth.truncate(point.label, to: 28)
            let labelWidth = SVGChart.estimatedWidth(label)
            let onRight = x + 10 + labelWidth <= chart.plotRight
            var labelY = y - 9
            let labelX = onRight ? x + 9 : x - 9 - labelWidth
            // Nudge a label down past any earlier label it would overlap.
            while placed.contains(where: { abs($0.y - labelY) < 13 && $0.x < labelX + labelWidth && labelX < $0.x + $0.width }) {
                labelY += 13
            }
            placed.append((labelX, labelY, labelWidth))
            svg += chart.text(label, x: onRight ? x + 9 : x - 9, y: labelY, anchor: onRight ? "start" : "end") + "</g>"
        }
        return chart.svg(label: yLabel + " against " + xLabel, svg)
    }
}
