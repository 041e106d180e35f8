/// A complete, self-contained HTML document in the report style Spanway's reports share: one file
/// with its CSS inline and charts as inline SVG, so it opens offline, can be mailed or attached to
/// a ticket, and loads nothing from anywhere.
///
/// A Content-Security-Policy that allows no fetches at all backs this up: if some future section
/// referenced an external image or font, the browser would refuse it (and log a console error,
/// which the browser test catches) instead of leaking that the report was opened.
public struct HTMLPage: Sendable {
    public var title: String
    /// Shown under the title, as text.
    public var subtitle: String?
    /// Trusted markup made with the kit (`HTMLPage.section`, `HTMLTable`, `SVGChart`…).
    public var body: [String]

    public init(title: String, subtitle: String? = nil, body: [String] = []) {
        self.title = title
        self.subtitle = subtitle
        self.body = body
    }

    public func render() -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        html += "<title>\(HTML.escape(title))</title>\n<style>\n\(HTMLStyle.css)</style>\n</head>\n<body>\n<main>\n"
        html += "<header class=\"page-header\"><h1>\(HTML.escape(title))</h1>"
        if let subtitle { html += "<p class=\"subtitle\">\(HTML.escape(subtitle))</p>" }
        html += "</header>\n"
        for part in body { html += part + "\n" }
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// A titled card; `id` becomes the element id (kept to `[a-z0-9-]`), `note` an explanatory line.
    public static func section(_ title: String, id: String, note: String? = nil, _ content: String) -> String {
        let safeID = String(
            id.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        var html = "<section class=\"card\" id=\"\(safeID)\"><h2>\(HTML.escape(title))</h2>"
        if let note { html += "<p class=\"note\">\(HTML.escape(note))</p>" }
        return html + content + "</section>"
    }

    /// A definition grid of label → value facts (run id, status, dates…). Values are trusted markup;
    /// escape data with `HTML.escape` first.
    public static func facts(_ items: [(label: String, valueHTML: String)]) -> String {
        var html = "<dl class=\"facts\">"
        for item in items {
            html += "<div><dt>\(HTML.escape(item.label))</dt><dd>\(item.valueHTML)</dd></div>"
        }
        return html + "</dl>"
    }

    /// A small coloured label; `tone` is one of `good`, `warn`, `bad`, `info`, `neutral`.
    public static func badge(_ text: String, tone: String) -> String {
        "<span class=\"badge \(HTML.escape(tone))\">\(HTML.escape(text))</span>"
    }

    /// A coloured square matching a series in the charts.
    public static func swatch(_ color: String) -> String {
        "<span class=\"swatch\" style=\"background:\(HTML.escape(color))\"></span>"
    }

    /// Collapsed content, opened by a click, without any script.
    public static func details(summary: String, _ content: String) -> String {
        "<details><summary>\(HTML.escape(summary))</summary>\(content)</details>"
    }

    /// A paragraph of muted text, for "nothing to show" cases.
    public static func empty(_ text: String) -> String {
        "<p class=\"empty\">\(HTML.escape(text))</p>"
    }
}
