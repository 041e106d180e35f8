/// A plain-text table for terminals: columns aligned by display width, optional ANSI styling, and
/// columns that do not fit the terminal wrapped into further blocks that repeat the first column,
/// so a wide table stays readable at 100 columns instead of wrapping mid-row.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left
        case right
    }

    /// ANSI SGR styles; applied after padding so escape codes never count towards a column's width.
    public enum Style: String, Sendable {
        case plain = ""
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
        case cyan = "36"
    }

    public struct Column: Sendable {
        public var title: String
        public var alignment: Alignment
        /// Cells wider than this are cut with `…`.
        public var maxWidth: Int

        public init(_ title: String, alignment: Alignment = .right, maxWidth: Int = 40) {
            self.title = title
            self.alignment = alignment
            self.maxWidth = maxWidth
        }
    }

    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var style: Style

        public init(_ text: String, style: Style = .plain) {
            self.text = text
            self.style = style
        }

        public init(stringLiteral value: String) {
            self.init(value)
        }
    }

    public var columns: [Column]
    public var rows: [[Cell]]
    public var gap: Int

    public init(columns: [Column], rows: [[Cell]] = [], gap: Int = 2) {
        self.columns = columns
        self.rows = rows
        self.gap = gap
    }

    /// The table as lines joined by `\n` (no trailing newline), at most `width` columns wide
    /// when the first column and any one other column fit.
    public func render(width: Int, color: Bool) -> String {
        guard !columns.isEmpty else { return "" }
        let widths = columnWidths()
        var blocks: [[Int]] = []
        var current: [Int] = [0]
        var used = widths[0]
        for index in columns.indices.dropFirst() {
            if current.count > 1 && used + gap + widths[index] > width {
                blocks.append(current)
                current = [0]
                used = widths[0]
            }
            current.append(index)
            used += gap + widths[index]
        }
        blocks.append(current)

        var lines: [String] = []
        for (blockIndex, block) in blocks.enumerated() {
            if blockIndex > 0 { lines.append("") }
            let header = block.map { Cell(columns[$0].title, style: .bold) }
            lines.append(line(header, block: block, widths: widths, color: color))
            let rule = block.map { String(repeating: "─", count: widths[$0]) }
            lines.append(rule.joined(separator: String(repeating: " ", count: gap)))
            for row in rows {
                lines.append(line(block.map { $0 < row.count ? row[$0] : "" }, block: block, widths: widths, color: color))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func columnWidths() -> [Int] {
        columns.indices.map { index in
            var width = DisplayWidth.of(columns[index].title)
            for row in rows where index < row.count {
                width = max(width, min(DisplayWidth.of(row[index].text), columns[index].maxWidth))
            }
            return width
        }
    }

    private func line(_ cells: [Cell], block: [Int], widths: [Int], color: Bool) -> String {
        var parts: [String] = []
        for (position, index) in block.enumerated() {
            let column = columns[index]
            let text = DisplayWidth.truncate(cells[position].text, to: max(column.maxWidth, DisplayWidth.of(column.title)))
            let isLast = position == block.count - 1
            var padded = DisplayWidth.pad(text, to: widths[index], leftAligned: column.alignment == .left)
            // Trailing spaces on the last column are noise in logs and copied output.
            if isLast && column.alignment == .left { padded = text }
            let style = cells[position].style
            parts.append(color && style != .plain ? "\u{1B}[\(style.rawValue)m" + padded + "\u{1B}[0m" : padded)
        }
        return parts.joined(separator: String(repeating: " ", count: gap))
    }
}
