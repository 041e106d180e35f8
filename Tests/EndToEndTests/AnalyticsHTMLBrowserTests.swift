import BrowserTesting
import Foundation
import Proxy
import Store
import Testing

/// The analytics HTML report opened in Debian's headless Chromium: it renders a row per group and
/// its charts, and logs nothing to the console (errors, exceptions, Content-Security-Policy
/// violations). The evaluation report's browser tests show the console detection works.
@Suite(.serialized) struct AnalyticsHTMLBrowserTests {
    /// Rows over two hours and three providers, one group named like markup.
    static func store() async throws -> SQLiteStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-html-\(UUID().uuidString).db").path
        let store = try SQLiteStore(path: path)
        var rows: [SpendRow] = []
        let start: Int64 = 1_764_496_800_000
        for index in 0..<60 {
            let provider = ["openai", "anthropic", "<script>alert(1)</script>"][index % 3]
            let latency = Double(80 + (index * 37) % 900)
            rows.append(
                SpendRow(
                    requestID: "r\(index)", traceID: "t\(index)", startTime: start + Int64(index) * 120_000,
                    endTime: start + Int64(index) * 120_000 + Int64(latency), teamID: index % 2 == 0 ? "research" : "ops",
                    operation: "chat", model: "m", modelGroup: "group-\(index % 4)", provider: provider, inputTokens: 100,
                    outputTokens: 40, spend: 0.0002 * Double(index % 5 + 1), statusCode: index % 11 == 0 ? 503 : 200,
                    errorType: index % 11 == 0 ? "upstream_unavailable" : nil, attempts: 1, fallbackDepth: 0,
                    latencyMs: latency, upstreamLatencyMs: latency - 2, overheadMs: 2,
                    timeToFirstTokenMs: index % 2 == 0 ? latency / 4 : nil, tags: index % 3 == 0 ? ["batch"] : []))
        }
        try await store.recordSpend(rows)
        return store
    }

    @Test(HeadlessChromium.needed, .timeLimit(.minutes(2)))
    func rendersEveryGroupAndItsChartsWithoutConsoleErrors() async throws {
        let store = try await Self.store()
        let query = AnalyticsQuery(since: 1_764_500_400_000, until: 1_764_504_000_000, groupBy: [.provider])
        let report = try await AnalyticsReport.run(AnalyticsRequest(query: query, compare: true), store: store)
        #expect(report.current.groups.count == 3 && report.previous?.groups.count == 3)
        let result = try await HeadlessChromium.open(html: report.html())
        #expect(result.exitStatus == 0, "chromium failed: \(result.stderr.suffix(2000))")
        #expect(result.consoleMessages.isEmpty, "console: \(result.consoleMessages)")
        #expect(result.dom.components(separatedBy: "<tr data-group=").count - 1 == 3)
        for name in ["openai", "anthropic", "&lt;script&gt;alert(1)&lt;/script&gt;"] {
            #expect(result.dom.contains("<tr data-group=\"\(name)\">"), "\(name)")
        }
        for chart in ["latency-chart", "ttft-chart", "requests-chart", "cost-chart"] {
            #expect(result.dom.contains("id=\"\(chart)\""), "\(chart)")
        }
        #expect(result.dom.components(separatedBy: "<svg").count - 1 == 4)
        #expect(!result.dom.contains("<script"))
    }
}
