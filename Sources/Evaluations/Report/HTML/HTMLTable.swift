/// An HTML table whose cell text is escaped unless the caller hands over markup the kit made.
public struct HTMLTable: Sendable {
    public struct Column: Sendable {
        public var title: String
        /// Right-aligned, tabular figures.
        public var numeric: Bool

        public init(_ title: String, numeric: Bool = false) {
            self.title = title
            self.numeric = numeric
        }
    }

    public struct Cell: Sendable, ExpressibleByStringLiteral {
        /// Markup, already safe.
        public var html: String
        public var className: String?
        /// Hover text (escaped when rendered).
        public var title: String?
        /// Inline CSS made by the kit (a background shade), never from data.
        public var style: String?

        /// A cell showing `text`, escaped.
        public init(_ text: String, className: String? = nil, title: String? = nil, style: String? = nil) {
            self.html = HTML.escape(text)
            self.className = className
            self.title = title
            self.style = style
        }

        /// A cell of trusted markup (made with the kit, with any data in it escaped).
        public static func markup(_ html: String, className: String? = nil, title: String? = nil, style: String? = nil) -> Cell {
            var cell = Cell("", className: className, title: title, style: style)
            cell.html = html
            return cell
        }

        public init(stringLiteral value: String) {
            self.init(value)
        }
    }

    public struct Row: Sendable {
        public var cells: [Cell]
        /// Extra attributes of the `<tr>` (`data-model`…); values are escaped.
        public var attributes: [(name: String, value: String)]

        public init(_ cells: [Cell], attributes: [(name: String, value: String)] = []) {
            self.cells = cells
            self.attributes = attributes
        }
    }

    public var columns: [Column]
    public var rows: [Row]
    /// The `class` of the `<table>`.
    public var className: String?

    public init(columns: [Column], rows: [Row] = [], className: String? = nil) {
        self.columns = columns
        self.rows = rows
        self.className = className
    }

    public func render() -> String {
        var html = "<table" + (className.map { HTML.attributes([("class", $0)]) } ?? "") + "><thead><tr>"
        for column in columns {
            html += column.numeric ? "<th class=\"num\">" : "<th>"
            html += HTML.escape(column.title) + "</th>"
        }
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr" + HTML.attributes(row.attributes) + ">"
            for (index, cell) in row.cells.enumerated() {
                let numeric = index < columns.count && columns[index].numeric
                var classes: [String] = numeric ? ["num"] : []
                if let className = cell.className { classes.append(className) }
                var attributes: [(name: String, value: String)] = []
                if !classes.isEmpty { attributes.append(("class", classes.joined(separator: " "))) }
                if let title = cell.title { attributes.append(("title", title)) }
                if let style = cell.style { attributes.append(("style", style)) }
                html += "<td" + HTML.attributes(attributes) + ">" + cell.html + "</td>"
            }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }
}
