/// The frame of an inline SVG chart: its size, the plot area inside the margins, axes with ticks,
/// grid lines and labels. Chart types (`SVGBoxPlot`, `SVGScatter`) draw their marks inside it.
///
/// No `xmlns`: inline SVG in an HTML document needs none, and leaving it out keeps the report
/// free of any URL.
public struct SVGChart: Sendable {
    public struct Margin: Sendable {
        public var top: Double
        public var right: Double
        public var bottom: Double
        public var left: Double

        public init(top: Double, right: Double, bottom: Double, left: Double) {
            self.top = top
            self.right = right
            self.bottom = bottom
            self.left = left
        }
    }

    public var width: Double
    public var height: Double
    public var margin: Margin

    public init(width: Double, height: Double, margin: Margin) {
        self.width = width
        self.height = height
        self.margin = margin
    }

    public var plotLeft: Double { margin.left }
    public var plotRight: Double { width - margin.right }
    public var plotTop: Double { margin.top }
    public var plotBottom: Double { height - margin.bottom }

    /// The finished `<svg>` element; `label` is its accessible name.
    public func svg(label: String, _ content: String) -> String {
        "<svg viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" width=\"\(Self.number(width))\" "
            + "height=\"\(Self.number(height))\" role=\"img\" aria-label=\"\(HTML.escape(label))\">"
            + "<title>\(HTML.escape(label))</title>" + content + "</svg>"
    }

    /// Vertical grid lines, tick labels under the plot and `label` centred below them.
    public func bottomAxis(_ scale: SVGScale, label: String, format: (Double) -> String) -> String {
        var svg = "<g class=\"tick\">"
        for tick in scale.ticks() {
            let x = Self.number(scale.position(tick))
            svg +=
                "<line class=\"grid\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(Self.number(plotTop))\" y2=\"\(Self.number(plotBottom))\"/>"
            svg +=
                "<text x=\"\(x)\" y=\"\(Self.number(plotBottom + 16))\" text-anchor=\"middle\">\(HTML.escape(format(tick)))</text>"
        }
        svg += "</g>"
        svg += line(x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom, className: "axis")
        svg +=
            "<text class=\"axis-label\" x=\"\(Self.number((plotLeft + plotRight) / 2))\" y=\"\(Self.number(plotBottom + 36))\" "
        svg += "text-anchor=\"middle\">\(HTML.escape(label))</text>"
        return svg
    }

    /// Horizontal grid lines, tick labels left of the plot and `label` rotated along the axis.
    public func leftAxis(_ scale: SVGScale, label: String, format: (Double) -> String) -> String {
        var svg = "<g class=\"tick\">"
        for tick in scale.ticks() {
            let y = Self.number(scale.position(tick))
            svg +=
                "<line class=\"grid\" x1=\"\(Self.number(plotLeft))\" x2=\"\(Self.number(plotRight))\" y1=\"\(y)\" y2=\"\(y)\"/>"
            svg +=
                "<text x=\"\(Self.number(plotLeft - 8))\" y=\"\(y)\" dy=\"0.32em\" text-anchor=\"end\">\(HTML.escape(format(tick)))</text>"
        }
        svg += "</g>"
        svg += line(x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, className: "axis")
        let x = Self.number(plotLeft - margin.left + 14)
        let y = Self.number((plotTop + plotBottom) / 2)
        svg += "<text class=\"axis-label\" x=\"\(x)\" y=\"\(y)\" transform=\"rotate(-90 \(x) \(y))\" text-anchor=\"middle\">"
        svg += HTML.escape(label) + "</text>"
        return svg
    }

    public func line(
        x1: Double, y1: Double, x2: Double, y2: Double, className: String? = nil, stroke: String? = nil, width: Double = 1
    ) -> String {
        var svg = "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\""
        if let className { svg += " class=\"\(HTML.escape(className))\"" }
        if let stroke { svg += " stroke=\"\(HTML.escape(stroke))\" stroke-width=\"\(Self.number(width))\"" }
        return svg + "/>"
    }

    /// Text placed at a point; `anchor` is `start`, `middle` or `end`.
    public func text(_ text: String, x: Double, y: Double, anchor: String = "start", className: String? = nil) -> String {
        var svg = "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" text-anchor=\"\(HTML.escape(anchor))\""
        if let className { svg += " class=\"\(HTML.escape(className))\"" }
        return svg + ">" + HTML.escape(text) + "</text>"
    }

    /// A coordinate with at most one decimal, locale-free, without a trailing `.0`.
    public static func number(_ value: Double) -> String {
        let text = ReportFormat.fixed(value.isFinite ? value : 0, digits: 1)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// A rough width of `text` at the charts' 11 px font, for margins and label placement
    /// (the browser measures; we cannot, and a slight overestimate only adds space).
    public static func estimatedWidth(_ text: String) -> Double {
        Double(DisplayWidth.of(text)) * 6.6
    }
}
