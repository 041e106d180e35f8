import Evaluations
import Foundation
import Testing

/// Opens the HTML report in Debian's headless Chromium: it must render one summary row per model
/// and log nothing to the console. Chromium prints every console message of the page (errors,
/// uncaught exceptions, Content-Security-Policy violations) to stderr as
/// `[pid:tid:time:INFO:CONSOLE:line] "message", source: URL (line)` when started with
/// `--enable-logging=stderr`; the negative controls prove that detection works.
@Suite(.serialized) struct HTMLReportBrowserTests {
    static let chromiumPath: String? = ["/usr/bin/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(
        .enabled(if: chromiumPath != nil, "Debian's chromium is not installed (/usr/bin/chromium)"), .timeLimit(.minutes(2)))
    func rendersOneRowPerModelWithoutConsoleErrors() async throws {
        let report = ReportFixture.report
        let result = try await Self.open(html: EvalHTMLReport.render(report))
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

    @Test(
        .enabled(if: chromiumPath != nil, "Debian's chromium is not installed (/usr/bin/chromium)"), .timeLimit(.minutes(2)))
    func detectsConsoleErrorsAndUncaughtExceptions() async throws {
        let html = """
            <!DOCTYPE html><html><body><p>control</p>
            <script>console.error("negative-control-message")</script>
            <script>throw new Error("negative-control-throw")</script>
            </body></html>
            """
        let result = try await Self.open(html: html)
        #expect(result.consoleMessages.contains { $0.contains("negative-control-message") }, "\(result.consoleMessages)")
        #expect(result.consoleMessages.contains { $0.contains("negative-control-throw") }, "\(result.consoleMessages)")
    }

    @Test(
        .enabled(if: chromiumPath != nil, "Debian's chromium is not installed (/usr/bin/chromium)"), .timeLimit(.minutes(2)))
    func detectsAnExternalFetchBlockedByThePagePolicy() async throws {
        // The report's page shell forbids every fetch; a section that referenced an outside image
        // would show up as a console message rather than pass silently.
        let page = HTMLPage(title: "control", body: ["<img alt=\"x\" src=\"http://127.0.0.1:9/x.png\">"]).render()
        let result = try await Self.open(html: page)
        #expect(result.consoleMessages.contains { $0.contains("Content Security Policy") }, "\(result.consoleMessages)")
    }

    struct BrowserResult {
        var exitStatus: Int32
        var dom: String
        var stderr: String
        var consoleMessages: [String]
    }

    /// Writes `html` to a temporary file, runs headless Chromium on it with `--dump-dom`, and
    /// collects stdout and stderr through files (pipes could fill up and block Chromium). Killed
    /// after 60 seconds.
    static func open(html: String) async throws -> BrowserResult {
        let chromium = try #require(chromiumPath)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        try Data(html.utf8).write(to: page)
        let stdoutURL = directory.appendingPathComponent("stdout.txt")
        let stderrURL = directory.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--no-first-run",
            "--enable-logging=stderr", "--v=0", "--dump-dom", page.absoluteString,
        ]
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            // A watchdog, not a wait: the test proceeds as soon as Chromium exits.
            DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
                if process.isRunning { process.terminate() }
            }
        }
        try stdout.close()
        try stderr.close()
        let dom = String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self)
        let log = String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self)
        return BrowserResult(exitStatus: status, dom: dom, stderr: log, consoleMessages: consoleMessages(in: log))
    }

    /// Console lines of Chromium's log: `INFO:CONSOLE:12]` in current versions, `INFO:CONSOLE(12)]`
    /// in older ones.
    static func consoleMessages(in log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains(":CONSOLE:") || $0.contains(":CONSOLE(") }.map(String.init)
    }
}
