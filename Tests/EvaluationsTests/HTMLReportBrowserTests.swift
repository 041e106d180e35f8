import BrowserTesting
import Evaluations
import Foundation
import Testing

/// Opens the HTML report in Debian's headless Chromium: it must render one summary row per model
/// and log nothing to the console; the negative controls prove that the console detection works.
@Suite(.serialized) struct HTMLReportBrowserTests {
    @Test(HeadlessChromium.needed, .timeLimit(.minutes(2)))
    func rendersOneRowPerModelWithoutConsoleErrors() async throws {
        let report = ReportFixture.report
        let result = try await HeadlessChromium.open(html: EvalHTMLReport.render(report))
        #expect(result.exitStatus == 0, "chromium failed: \(result.stderr.suffix(2000))")
        #expect(result.consoleMessages.isEmpty, "console: \(result.consoleMessages)")
        // The DOM as the browser parsed it: one data-model row per model, names still escaped.
        #expect(result.dom.components(separatedBy: "<tr data-model=").count - 1 == report.models.count)
        for model in ["alpha", "beta", "gamma&lt;script&gt;alert(2)&lt;/script&gt;"] {
            #expect(result.dom.contains("<tr data-model=\"\(model)\">"), "\(model)")
        }
        #expect(result.dom.contains("<svg"))
        #expect(!result.dom.contains("<script"))
    }

    @Test(HeadlessChromium.needed, .timeLimit(.minutes(2)))
    func detectsConsoleErrorsAndUncaughtExceptions() async throws {
        let html = """
            <!DOCTYPE html><html><body><p>control</p>
            <script>console.error("negative-control-message")</script>
            <script>throw new Error("negative-control-throw")</script>
            </body></html>
            """
        let result = try await HeadlessChromium.open(html: html)
        #expect(result.consoleMessages.contains { $0.contains("negative-control-message") }, "\(result.consoleMessages)")
        #expect(result.consoleMessages.contains { $0.contains("negative-control-throw") }, "\(result.consoleMessages)")
    }

    @Test(HeadlessChromium.needed, .timeLimit(.minutes(2)))
    func detectsAnExternalFetchBlockedByThePagePolicy() async throws {
        // The report's page shell forbids every fetch; a section that referenced an outside image
        // would show up as a console message rather than pass silently.
        let page = HTMLPage(title: "control", body: ["<img alt=\"x\" src=\"http://127.0.0.1:9/x.png\">"]).render()
        let result = try await HeadlessChromium.open(html: page)
        #expect(result.consoleMessages.contains { $0.contains("Content Security Policy") }, "\(result.consoleMessages)")
    }
}
