import Evaluations
import Telemetry
import Testing

/// A small run built by hand: three models (one with markup in its name), two scorers, a failure,
/// a refusal, a hostile answer, an answer full of CSV metacharacters and ids that look like
/// spreadsheet formulas.
enum ReportFixture {
    static let evilModel = "gamma<script>alert(2)</script>"
    static let hostileAnswer = "</td><script>alert(1)</script>"
    static let csvAnswer = "a, \"quoted\"\nsecond line"
    static let commaItem = "q,3 \"x\"\ny"

    static var report: EvalReport {
        let cells = [
            EvalCell(
                itemID: "q1", model: "alpha", sample: 0, outcome: .answered, statusCode: 200, answer: "Paris",
                latencySeconds: 0.5, timeToFirstTokenSeconds: 0.1, inputTokens: 10, outputTokens: 5, costUSD: 0.001,
                scores: ["judge": 0.9, "exact": 1], judgeReason: "right", traceID: "0af7651916cd43dd8448eb211c80319c",
                spanID: "b7ad6b7169203331"),
            EvalCell(
                itemID: "q1", model: "beta", sample: 0, outcome: .answered, statusCode: 200, answer: hostileAnswer,
                latencySeconds: 1.5, inputTokens: 10, outputTokens: 7, costUSD: 0.002, scores: ["exact": 0, "judge": 0.2],
                traceID: "0af7651916cd43dd8448eb211c80319c", spanID: "00f067aa0ba902b7"),
            EvalCell(
                itemID: "q1", model: evilModel, sample: 0, outcome: .failed, statusCode: 429, errorKind: "rate_limit_exceeded",
                errorMessage: "slow down", latencySeconds: 0.1, traceID: "0af7651916cd43dd8448eb211c80319c",
                spanID: "1111111111111111"),
            EvalCell(
                itemID: commaItem, model: "alpha", sample: 0, outcome: .answered, statusCode: 200, answer: csvAnswer,
                latencySeconds: 0.7, inputTokens: 12, outputTokens: 9, costUSD: 0.000123, scores: ["exact": 0, "judge": 0.5],
                traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spanID: "2222222222222222"),
            EvalCell(
                itemID: commaItem, model: "beta", sample: 0, outcome: .refused, traceID: "4bf92f3577b34da6a3ce929d0e0e4736",
                spanID: "3333333333333333"),
            EvalCell(
                itemID: "@SUM(A1)", model: evilModel, sample: 1, outcome: .failed, statusCode: 500,
                errorKind: "=cmd|' /C calc'!A0",
                latencySeconds: 2.25, costUSD: -0.25, traceID: "5bf92f3577b34da6a3ce929d0e0e4736", spanID: "4444444444444444"),
            EvalCell(
                itemID: "-5", model: "alpha", sample: 0, outcome: .answered, statusCode: 200, answer: "see https://example.com/x",
                latencySeconds: 0.65, inputTokens: 1, outputTokens: 1, costUSD: 0, scores: ["exact": 1],
                traceID: "6bf92f3577b34da6a3ce929d0e0e4736", spanID: "5555555555555555"),
        ]
        let summaries = [
            ModelSummary(
                model: "alpha", sent: 3, answered: 3, errors: [:], refused: 0, latencyP50: 0.65, latencyP95: 0.6955,
                timeToFirstTokenP50: 0.1, inputTokens: 23, outputTokens: 15, totalCostUSD: 0.001123,
                costPerAnswerUSD: 0.000374333,
                scores: [
                    ScoreSummary(scorer: "exact", count: 3, mean: 2.0 / 3, low: 0.01, high: 1),
                    ScoreSummary(scorer: "judge", count: 2, mean: 0.7, low: 0.45, high: 0.95),
                ]),
            ModelSummary(
                model: "beta", sent: 1, answered: 1, errors: [:], refused: 1, latencyP50: 1.5, latencyP95: 1.5,
                timeToFirstTokenP50: nil, inputTokens: 10, outputTokens: 7, totalCostUSD: 0.002, costPerAnswerUSD: 0.002,
                scores: [
                    ScoreSummary(scorer: "exact", count: 1, mean: 0, low: nil, high: nil),
                    ScoreSummary(scorer: "judge", count: 1, mean: 0.2, low: nil, high: nil),
                ]),
            ModelSummary(
                model: evilModel, sent: 2, answered: 0, errors: ["rate_limit_exceeded": 1, "api_error": 1], refused: 0,
                latencyP50: nil, latencyP95: nil, timeToFirstTokenP50: nil, inputTokens: 0, outputTokens: 0,
                totalCostUSD: -0.25, costPerAnswerUSD: nil, scores: []),
        ]
        return EvalReport(
            runID: "run-42", status: .interrupted, startedAt: 951_782_400, finishedAt: 951_782_472.5,
            models: ["alpha", "beta", evilModel], scorers: ["exact", "judge"], judge: "judge-model", itemCount: 4, repeats: 2,
            cells: cells, summaries: summaries,
            pairwise: [PairwiseRecord(a: "alpha", b: "beta", winsA: 3, winsB: 1, ties: 2)],
            disagreements: [Disagreement(itemID: "q1", spread: 0.75, scores: ["beta": 0.1, "alpha": 0.85])])
    }
}

@Suite struct ReportJSONTests {
    static let cellKeys = [
        "item_id", "model", "sample", "outcome", "status_code", "error_kind", "error_message", "answer", "latency_seconds",
        "ttft_seconds", "input_tokens", "output_tokens", "cost_usd", "scores", "judge_reason", "trace_id", "span_id",
    ]

    @Test func topLevelFields() throws {
        let json = ReportFixture.report.json
        #expect(
            json.objectValue?.keys == [
                "run_id", "status", "started_at", "finished_at", "models", "scorers", "judge", "item_count", "repeats",
                "summaries", "pairwise", "disagreements", "cells",
            ])
        #expect(json["run_id"] == "run-42")
        #expect(json["status"] == "interrupted")
        #expect(json["started_at"]?.doubleValue == 951_782_400)
        #expect(json["finished_at"]?.doubleValue == 951_782_472.5)
        #expect(json["models"] == .array(["alpha", "beta", .string(ReportFixture.evilModel)]))
        #expect(json["scorers"] == .array(["exact", "judge"]))
        #expect(json["judge"] == "judge-model")
        #expect(json["item_count"]?.intValue == 4)
        #expect(json["repeats"]?.intValue == 2)
    }

    @Test func everyCellHasTheSameKeysWithNullForAbsent() throws {
        let cells = try #require(ReportFixture.report.json["cells"]?.arrayValue)
        #expect(cells.count == 7)
        for cell in cells { #expect(cell.objectValue?.keys == Self.cellKeys) }
        let failed = cells[2]
        #expect(failed["outcome"] == "failed")
        #expect(failed["status_code"]?.intValue == 429)
        #expect(failed["error_kind"] == "rate_limit_exceeded")
        #expect(failed["error_message"] == "slow down")
        #expect(failed["answer"] == .null)
        #expect(failed["ttft_seconds"] == .null)
        #expect(failed["scores"] == .object([:]))
        let refused = cells[4]
        #expect(refused["status_code"] == .null)
        #expect(refused["latency_seconds"] == .null)
        let first = cells[0]
        #expect(first["answer"] == "Paris")
        #expect(first["latency_seconds"]?.doubleValue == 0.5)
        #expect(first["ttft_seconds"]?.doubleValue == 0.1)
        #expect(first["cost_usd"]?.doubleValue == 0.001)
        #expect(first["trace_id"] == "0af7651916cd43dd8448eb211c80319c")
        #expect(first["span_id"] == "b7ad6b7169203331")
        #expect(first["judge_reason"] == "right")
        // Scores follow the run's scorer order, not the dictionary's.
        #expect(first["scores"]?.objectValue?.keys == ["exact", "judge"])
        #expect(first["scores"]?["judge"]?.doubleValue == 0.9)
        #expect(cells[1]["answer"]?.stringValue == ReportFixture.hostileAnswer)
    }

    @Test func summariesPairwiseAndDisagreements() throws {
        let json = ReportFixture.report.json
        let summaries = try #require(json["summaries"]?.arrayValue)
        #expect(summaries.map { $0["model"]?.stringValue } == ["alpha", "beta", ReportFixture.evilModel])
        #expect(summaries[0]["latency_p95_seconds"]?.doubleValue == 0.6955)
        #expect(summaries[0]["cost_per_answer_usd"]?.doubleValue == 0.000374333)
        #expect(summaries[1]["ttft_p50_seconds"] == .null)
        #expect(summaries[2]["errors"] == .object(["api_error": .int(1), "rate_limit_exceeded": .int(1)]))
        #expect(summaries[2]["cost_per_answer_usd"] == .null)
        let scores = try #require(summaries[0]["scores"]?.arrayValue)
        #expect(scores.first?["scorer"] == "exact")
        #expect(scores.first?["low"]?.doubleValue == 0.01)
        #expect(summaries[1]["scores"]?.arrayValue?.first?["low"] == .null)

        let pair = try #require(json["pairwise"]?.arrayValue?.first)
        #expect(pair["a"] == "alpha")
        #expect(pair["wins_a"]?.intValue == 3)
        #expect(pair["wins_b"]?.intValue == 1)
        #expect(pair["ties"]?.intValue == 2)
        // (3 wins + 2 ties / 2) / 6 comparisons.
        let rate = try #require(pair["win_rate_a"]?.doubleValue)
        #expect(abs(rate - 4.0 / 6.0) < 1e-12)

        let disagreement = try #require(json["disagreements"]?.arrayValue?.first)
        #expect(disagreement["item_id"] == "q1")
        #expect(disagreement["spread"]?.doubleValue == 0.75)
        #expect(disagreement["scores"]?.objectValue?.keys == ["alpha", "beta"])
    }

    @Test func encodesToParseableJSON() throws {
        let json = ReportFixture.report.json
        #expect(try JSONParser.parse(json.encodedString()) == json)
    }
}

@Suite struct ReportCSVTests {
    /// RFC 4180 read independently of the writer: fields split on commas, quoted fields may hold
    /// commas, CRLF and doubled quotes; records end in CRLF.
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var inQuotes = false
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            if inQuotes {
                if scalar == "\"" {
                    if scalars.first == "\"" {
                        field.unicodeScalars.append("\"")
                        scalars.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
            } else if scalar == "\"" && field.isEmpty {
                inQuotes = true
            } else if scalar == "," {
                record.append(field)
                field = ""
            } else if scalar == "\r" && scalars.first == "\n" {
                scalars.removeFirst()
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }

    static let header = [
        "run_id", "item_id", "model", "sample", "outcome", "status_code", "error_kind", "latency_seconds", "ttft_seconds",
        "input_tokens", "output_tokens", "cost_usd", "score_exact", "score_judge", "trace_id", "span_id", "answer",
        "error_message",
    ]

    @Test func headerAndOneRowPerCell() throws {
        let csv = ReportFixture.report.csv
        #expect(csv.hasSuffix("\r\n"))
        let records = Self.parse(csv)
        #expect(records.first == Self.header)
        #expect(records.count == 1 + 7)
        for record in records { #expect(record.count == Self.header.count) }
        #expect(
            records[1] == [
                "run-42", "q1", "alpha", "0", "answered", "200", "", "0.5", "0.1", "10", "5", "0.001", "1", "0.9",
                "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "Paris", "",
            ])
        // A failed cell has no scores and no ttft: empty fields.
        #expect(records[3][7...13] == ["0.1", "", "0", "0", "0", "", ""])
        #expect(records[3][6] == "rate_limit_exceeded")
        // A refused cell: no status, no latency.
        #expect(records[5][4...7] == ["refused", "", "", ""])
    }

    @Test func quotesCommasQuotesAndNewlines() throws {
        let csv = ReportFixture.report.csv
        #expect(csv.contains("\"q,3 \"\"x\"\"\ny\""))
        let records = Self.parse(csv)
        #expect(records[4][1] == ReportFixture.commaItem)
        // Answers keep their commas, quotes and newlines through the round trip.
        #expect(records[4][16] == ReportFixture.csvAnswer)
        #expect(records[3][2] == ReportFixture.evilModel)
    }

    @Test func guardsTextAgainstFormulasButNotNumbers() throws {
        let records = Self.parse(ReportFixture.report.csv)
        let formulaRow = records[6]
        #expect(formulaRow[1] == "'@SUM(A1)")
        #expect(formulaRow[6] == "'=cmd|' /C calc'!A0")
        // A negative number in a numeric column stays a number.
        #expect(formulaRow[11] == "-0.25")
        #expect(formulaRow[7] == "2.25")
        // A text field that merely looks numeric is still text, so it is guarded.
        #expect(records[7][1] == "'-5")
    }
}

@Suite struct EvalTableTests {
    @Test func showsEveryModelAndItsFigures() {
        let table = EvalTable.render(ReportFixture.report, width: 200, color: false)
        #expect(!table.contains("\u{1B}["))
        let lines = table.split(separator: "\n").map(String.init)
        let alpha = try? #require(lines.first { $0.hasPrefix("alpha ") })
        let beta = try? #require(lines.first { $0.hasPrefix("beta ") })
        let gamma = try? #require(lines.first { $0.hasPrefix(ReportFixture.evilModel) })
        // alpha: 3 sent, 3 answered, p50 650 ms, p95 695.5 ms → 696ms, ttft 100ms, $0.001123 total,
        // $0.000374333 per answer (three significant digits), exact 0.67 [0.01–1.00].
        for figure in ["650ms", "696ms", "100ms", "$0.00112", "$0.000374", "0.67 [0.01–1.00]", "0.70 [0.45–0.95]"] {
            #expect(alpha?.contains(figure) == true, "alpha row lacks \(figure): \(alpha ?? "")")
        }
        #expect(alpha?.split(separator: " ").prefix(3) == ["alpha", "3", "3"])
        for figure in ["1.50s", "$0.002", "0.00", "0.20"] { #expect(beta?.contains(figure) == true, "beta lacks \(figure)") }
        #expect(beta?.split(separator: " ")[3] == "-")
        #expect(beta?.split(separator: " ")[4] == "1")
        // Errors by kind, most frequent first then by name.
        #expect(gamma?.contains("api_error×1 rate_limit_exceeded×1") == true)
        #expect(gamma?.contains("-$0.25") == true)
        #expect(table.contains("Evaluation run-42 · interrupted"))
    }

    @Test func pairwiseAndDisagreements() {
        let table = EvalTable.render(ReportFixture.report, width: 200, color: false)
        #expect(table.contains("Pairwise win rates (judge: judge-model)"))
        let pair = table.split(separator: "\n").first { $0.hasPrefix("alpha ") && $0.contains("beta") }
        #expect(pair?.split(separator: " ").map(String.init) == ["alpha", "beta", "3", "1", "2", "0.67"])
        let disagreement = table.split(separator: "\n").first { $0.hasPrefix("q1 ") }
        #expect(disagreement?.split(separator: " ").map(String.init) == ["q1", "0.75", "0.85", "0.10", "-"])
    }

    @Test func fitsTheTerminalWidthBySplittingColumns() {
        for width in [80, 100, 120] {
            let table = EvalTable.render(ReportFixture.report, width: width, color: false)
            for line in table.split(separator: "\n") where !line.hasPrefix("Evaluation ") && !line.hasPrefix("Items where") {
                #expect(DisplayWidth.of(String(line)) <= width, "\(width): \(line)")
            }
            // Every model still appears in each block of columns.
            let blocks = table.components(separatedBy: "\n\n")[1]
            #expect(blocks.contains("alpha") && blocks.contains("beta"))
        }
    }

    @Test func coloursOnlyWhenAsked() {
        let table = EvalTable.render(ReportFixture.report, width: 200, color: true)
        #expect(table.contains("\u{1B}[31mapi_error×1 rate_limit_exceeded×1"))
        #expect(table.contains("\u{1B}[0m"))
    }

    @Test func alignsWideCharactersByDisplayWidth() {
        let table = TextTable(
            columns: [.init("name", alignment: .left), .init("n")],
            rows: [["日本語", "1"], ["ab", "22"], ["e\u{301}", "333"]])
        let lines = table.render(width: 80, color: false).split(separator: "\n").map(String.init)
        // "日本語" is six columns wide; every line is 6 + 2 + 3 columns.
        for line in lines { #expect(DisplayWidth.of(line) == 11, "\(line)") }
        #expect(lines[2] == "日本語    1")
        #expect(lines[4] == "é       333")
    }
}

@Suite struct ReportFormatTests {
    @Test func money() {
        #expect(ReportFormat.usd(0.000123) == "$0.000123")
        #expect(ReportFormat.usd(0.0123) == "$0.0123")
        #expect(ReportFormat.usd(1.5) == "$1.50")
        #expect(ReportFormat.usd(0.5) == "$0.50")
        #expect(ReportFormat.usd(0) == "$0.00")
        #expect(ReportFormat.usd(-0.25) == "-$0.25")
        #expect(ReportFormat.usd(1234.567) == "$1234.57")
    }

    @Test func durationsAndNumbers() {
        #expect(ReportFormat.latency(0.85) == "850ms")
        #expect(ReportFormat.latency(0.0042) == "4.2ms")
        #expect(ReportFormat.latency(1.234) == "1.23s")
        #expect(ReportFormat.latency(12.34) == "12.3s")
        #expect(ReportFormat.duration(72) == "1m12s")
        #expect(ReportFormat.duration(45) == "45s")
        #expect(ReportFormat.duration(3720) == "1h02m")
        #expect(ReportFormat.fixed(0.835, digits: 1) == "0.8")
        #expect(ReportFormat.fixed(-0.004, digits: 2) == "0.00")
        #expect(ReportFormat.fixed(-1.5, digits: 0) == "-2")
        #expect(ReportFormat.integer(1_234_567) == "1,234,567")
        #expect(ReportFormat.score(mean: 0.834, low: 0.712, high: 0.951) == "0.83 [0.71–0.95]")
    }

    @Test func utcDates() {
        #expect(ReportFormat.utc(0) == "1970-01-01T00:00:00Z")
        // 2000-02-29 is 11 016 days after the epoch.
        #expect(ReportFormat.utc(11_016 * 86_400 + 3_723) == "2000-02-29T01:02:03Z")
        #expect(ReportFormat.utc(-1) == "1969-12-31T23:59:59Z")
    }
}

@Suite struct EvalProgressTests {
    @Test func terminalBar() {
        let progress = EvalProgress(done: 45, total: 120, failed: 2, spentUSD: 0.0123, elapsedSeconds: 43.2)
        let line = progress.line(tty: true, width: 100)
        #expect(line.hasSuffix("] 45/120 38% · ETA 1m12s · $0.0123 · 2 errors"))
        #expect(!line.contains("\n"))
        #expect(DisplayWidth.of(line) <= 100)
        // 45 of 120 fills 37.5 % of the bar, rounded down.
        let bar = line.prefix { $0 != "]" }.dropFirst()
        let filled = bar.filter { $0 == "#" }.count
        #expect(filled == bar.count * 45 / 120)
        #expect(bar.count >= 10)
        let narrow = progress.line(tty: true, width: 40)
        #expect(DisplayWidth.of(narrow) <= 40)
    }

    @Test func plainLine() {
        let progress = EvalProgress(done: 45, total: 120, failed: 2, spentUSD: 0.0123, elapsedSeconds: 43.2)
        #expect(progress.line(tty: false, width: 100) == "progress 45/120 (38%) eta 72s spent $0.0123 errors 2")
        let refused = EvalProgress(done: 50, total: 120, failed: 0, refused: 3, spentUSD: 0, elapsedSeconds: 10)
        #expect(refused.line(tty: false, width: 100) == "progress 50/120 (42%) eta 14s spent $0.00 errors 0 refused 3")
    }

    @Test func noEstimateBeforeTheFirstCellAndNoFullBarBeforeTheLast() {
        let start = EvalProgress(done: 0, total: 10, elapsedSeconds: 3)
        #expect(start.etaSeconds == nil)
        #expect(start.line(tty: false, width: 80) == "progress 0/10 (0%) eta -- spent $0.00 errors 0")
        #expect(start.line(tty: true, width: 80).contains("ETA --"))
        #expect(EvalProgress(done: 999, total: 1000, elapsedSeconds: 1).percent == 99)
        #expect(EvalProgress(done: 1000, total: 1000, elapsedSeconds: 1).line(tty: true, width: 80).contains("100%"))
    }
}

@Suite struct EvalHTMLReportTests {
    @Test func escapesEveryStringFromTheData() {
        let html = EvalHTMLReport.render(ReportFixture.report)
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("gamma&lt;script&gt;alert(2)&lt;/script&gt;"))
        #expect(html.contains("a, &quot;quoted&quot;\nsecond line"))
        #expect(!html.contains("alert(1)</"))
    }

    @Test func oneSummaryRowPerModel() {
        let html = EvalHTMLReport.render(ReportFixture.report)
        #expect(html.components(separatedBy: "<tr data-model=\"").count - 1 == 3)
        for model in ["alpha", "beta", "gamma&lt;script&gt;alert(2)&lt;/script&gt;"] {
            #expect(html.contains("<tr data-model=\"\(model)\">"))
        }
        let alphaRow = html.components(separatedBy: "<tr data-model=\"alpha\">")[1].components(separatedBy: "</tr>")[0]
        for figure in ["650ms", "696ms", "$0.00112", "$0.000374", "0.67", "[0.01–1.00]"] {
            #expect(alphaRow.contains(figure), "\(figure)")
        }
    }

    @Test func loadsNothingFromOutside() {
        let html = EvalHTMLReport.render(ReportFixture.report)
        for reference in ["src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object", "xmlns"] {
            #expect(!html.contains(reference), "\(reference)")
        }
        // The only URL is the one an answer contained, shown as text.
        #expect(html.components(separatedBy: "://").count - 1 == 1)
        #expect(html.contains("see https://example.com/x</div>"))
    }

    @Test func hasChartsMatrixDisagreementsAndCells() {
        let report = ReportFixture.report
        let html = EvalHTMLReport.render(report)
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(html.contains("latency (s)"))
        #expect(html.contains("mean exact score"))
        #expect(html.contains("Pairwise win rates"))
        #expect(html.contains(">0.67</td>") && html.contains(">0.33</td>"))
        #expect(html.contains("<details><summary>Show all 7 cells</summary>"))
        for cell in report.cells { #expect(html.contains(cell.traceID) && html.contains(cell.spanID)) }
        #expect(html.contains("2000-02-29T00:00:00Z"))
        #expect(EvalHTMLReport.render(report) == html)
    }

    @Test func saysSoWhenThereAreNoScores() {
        var report = ReportFixture.report
        report.scorers = []
        report.pairwise = []
        let html = EvalHTMLReport.render(report)
        #expect(html.contains("No scorer ran"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 1)
        #expect(!html.contains("Pairwise win rates"))
    }
}

@Suite struct HTMLKitTests {
    @Test func escaping() {
        #expect(HTML.escape("<a href=\"x\">'&") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;")
        #expect(HTML.attributes([("data-x", "a\"b")]) == " data-x=\"a&quot;b\"")
    }

    @Test func niceTicks() {
        let scale = SVGScale.linear(covering: [0.13, 0.92], lowerPixel: 0, upperPixel: 100)
        #expect(scale.ticks() == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(scale.position(0.5) == 50)
        let log = SVGScale.log(covering: [0.00009, 0.0011], lowerPixel: 0, upperPixel: 300)
        #expect(log.lower == 0.00001)
        #expect(log.upper == 0.01)
        #expect(abs(log.position(0.0001) - 100) < 1e-9)
    }

    @Test func boxPlotQuartilesAndWhiskers() throws {
        // Type 7 quantiles of 1,2,3,4,5,100: positions 1.25, 2.5, 3.75 → 2.25, 3.5, 4.75;
        // IQR 2.5, upper fence 8.5, so the upper whisker stops at 5 and 100 is an outlier.
        let summary = try #require(SVGBoxPlot.Summary([5, 1, 100, 3, 2, 4]))
        #expect(summary.q1 == 2.25)
        #expect(summary.median == 3.5)
        #expect(summary.q3 == 4.75)
        #expect(summary.lowWhisker == 1)
        #expect(summary.highWhisker == 5)
        #expect(summary.max == 100)
        #expect(SVGBoxPlot.Summary([]) == nil)
    }
}
