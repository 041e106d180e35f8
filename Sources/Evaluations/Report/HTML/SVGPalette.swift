/// Series colours, the same in every chart and table of a report so a model keeps its colour.
/// Tableau 10, distinguishable for most colour-vision deficiencies and on white.
public enum SVGPalette {
    public static let colors = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    public static func color(_ index: Int) -> String {
        colors[((index % colors.count) + colors.count) % colors.count]
    }

    /// A background shade from red (0) through pale yellow (0.5) to green (1), for heat-map cells.
    public static func shade(_ fraction: Double) -> String {
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0.5
        let hue = Int((clamped * 120).rounded())
        return "hsl(\(hue), 70%, \(ReportFormat.fixed(88 - abs(clamped - 0.5) * 16, digits: 0))%)"
    }
}
