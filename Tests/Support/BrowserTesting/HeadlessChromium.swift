import Foundation
import Testing

/// Debian's headless Chromium, for tests that open a self-contained HTML report: the DOM as the
/// browser parsed it, and every console message of the page. Chromium prints those (errors,
/// uncaught exceptions, Content-Security-Policy violations) to stderr as
/// `[pid:tid:time:INFO:CONSOLE:line] "message", source: URL (line)` with `--enable-logging=stderr`.
public enum HeadlessChromium {
    public static let path: String? = ["/usr/bin/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Skips a test, with the reason, where Chromium is not installed (CI installs it).
    public static var needed: ConditionTrait {
        .enabled(if: path != nil, "Debian's chromium is not installed (/usr/bin/chromium)")
    }

    public struct Page: Sendable {
        public var exitStatus: Int32
        public var dom: String
        public var stderr: String
        public var consoleMessages: [String]
    }

    /// Writes `html` to a temporary file and runs Chromium on it with `--dump-dom`; stdout and
    /// stderr go through files (pipes could fill up and block Chromium). Killed after 60 seconds.
    public static func open(html: String) async throws -> Page {
        let chromium = try #require(path)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-browser-\(UUID().uuidString)")
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
        return Page(exitStatus: status, dom: dom, stderr: log, consoleMessages: consoleMessages(in: log))
    }

    /// Console lines of Chromium's log: `INFO:CONSOLE:12]` in current versions, `INFO:CONSOLE(12)]`
    /// in older ones.
    public static func consoleMessages(in log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains(":CONSOLE:") || $0.contains(":CONSOLE(") }.map(String.init)
    }
}
