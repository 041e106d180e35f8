import Foundation
import GatewayTesting
import Telemetry
import Testing

/// `spanway eval` as a user runs it: the real binary against a running gateway.
@Suite(.timeLimit(.minutes(2))) struct EvalCommandTests {
    /// Ctrl-C while the third request is in flight: the binary stops sending, writes the two
    /// finished cells (and the rest as not run) to all three reports, and exits 130.
    @Test(CLITests.needsBinary) func interruptWritesAPartialReport() async throws {
        let hold = EvalUpstream.Hold(after: 2)
        try await EvaluationEndToEndTests().withGateway(hold: hold) { h, upstream in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-eval-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let dataset = directory.appendingPathComponent("items.jsonl")
            let lines = (1...6).map { #"{"id": "q\#($0)", "input": "Question \#($0)", "expected": "answer-\#($0)"}"# }
            try (lines.joined(separator: "\n") + "\n").write(to: dataset, atomically: true, encoding: .utf8)
            let output = directory.appendingPathComponent("out")
            let child = try ChildProcess(
                executable: CrashTests.binary,
                arguments: [
                    "eval", "--url", h.gatewayURL, "--key", Harness.master, "--dataset", dataset.path, "--models", "alpha",
                    "--concurrency", "1", "--scorer", "exact", "--output", output.path,
                ],
                environment: ["PATH": "/usr/bin:/bin"])
            try await h.eventually("the third request is held upstream") { upstream.seen.withLock { $0.count } == 3 }
            kill(child.process.processIdentifier, SIGINT)
            let status = await child.exit()
            hold.release.finish()
            #expect(status == 130, "\(child.output)")
            let json = try JSONParser.parse(Array(try Data(contentsOf: output.appendingPathComponent("report.json"))))
            #expect(json["status"]?.stringValue == "interrupted")
            let outcomes = (json["cells"]?.arrayValue ?? []).compactMap { $0["outcome"]?.stringValue }
            #expect(outcomes == ["answered", "answered", "not_run", "not_run", "not_run", "not_run"])
            let csv = try String(contentsOf: output.appendingPathComponent("report.csv"), encoding: .utf8)
            #expect(csv.split(whereSeparator: \.isNewline).count == 7)
            let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.contains("data-model=\"alpha\""))
            #expect(child.output.contains("alpha"), "the table is printed")
            #expect(upstream.seen.withLock { $0.count } == 3, "nothing is sent after Ctrl-C")
        }
    }
}
