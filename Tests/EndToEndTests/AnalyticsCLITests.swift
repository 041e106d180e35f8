import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

/// `spanway report` through the real binary, over a database of rows with known latencies.
@Suite(.timeLimit(.minutes(3))) struct AnalyticsCLITests {
    func run(_ arguments: [String], database: String) async throws -> (status: Int32, out: String) {
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["report"] + arguments,
            environment: ["DATABASE_URL": "sqlite:\(database)", "PATH": "/usr/bin:/bin"], standardError: false)
        let status = await child.exit()
        return (status, child.output)
    }

    /// Four openai rows (latencies 10, 20, 30, 100 ms; one failed) and one anthropic row, in the
    /// hour from 2025-11-30T10:00Z.
    static func database() async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-report-\(UUID().uuidString).db").path
        let store = try SQLiteStore(path: path)
        let start: Int64 = 1_764_496_800_000
        let rows = [
            (10.0, "openai", 200), (20, "openai", 200), (30, "openai", 429), (100, "openai", 200), (50, "anthropic", 200),
        ]
        try await store.recordSpend(
            rows.enumerated().map { index, row in
                SpendRow(
                    requestID: "r\(index)", traceID: "t", startTime: start + Int64(index) * 1000, endTime: start,
                    operation: "chat",
                    provider: row.1, inputTokens: 10, outputTokens: 5, spend: 0.01, statusCode: row.2,
                    errorType: row.2 == 429 ? "rate_limited" : nil, latencyMs: row.0, upstreamLatencyMs: row.0 - 1,
                    overheadMs: 1)
            })
        return path
    }

    @Test(.enabled(if: CrashTests.runnable, "needs .build/debug/spanway, which swift test builds"))
    func reportsJSONTableCSVAndHTML() async throws {
        let database = try await Self.database()
        let window = ["--since", "2025-11-30T10:00:00Z", "--until", "2025-11-30T11:00:00Z", "--group-by", "provider"]
        let json = try await run(window + ["--format", "json"], database: database)
        #expect(json.status == 0)
        let parsed = try JSONParser.parse(Array(json.out.utf8))
        let openai = try #require(parsed["groups"]?.arrayValue?.first { $0["keys"]?["provider"] == "openai" })
        #expect(openai["requests"]?.intValue == 4 && openai["error_rate"]?.doubleValue == 0.25)
        #expect(openai["errors_by_kind"] == .object(["rate_limited": .int(1)]))
        // 10, 20, 30, 100: p50 = 20 + 0.5·10; p95: h = 2.85 → 30 + 0.85·70.
        #expect(openai["latency_ms"]?["p50"]?.doubleValue == 25)
        #expect(abs((openai["latency_ms"]?["p95"]?.doubleValue ?? 0) - 89.5) < 1e-9)
        #expect(parsed["total"]?["requests"]?.intValue == 5)

        let table = try await run(window + ["--compare"], database: database)
        #expect(table.status == 0 && table.out.contains("openai") && table.out.contains("anthropic"))
        #expect(table.out.contains("Δ req") && table.out.contains("25ms") && table.out.contains("Errors by kind: rate_limited 1"))

        let csv = try await run(window + ["--format", "csv"], database: database)
        #expect(csv.out.split(separator: "\r\n").count == 4)

        let file = database + ".html"
        let html = try await run(window + ["--format", "html", "--output", file], database: database)
        #expect(html.status == 0)
        let page = try String(contentsOfFile: file, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.components(separatedBy: "<tr data-group=").count - 1 == 2)

        #expect(try await run(["--group-by", "colour"], database: database).status != 0)
        #expect(try await run(["--format", "pdf"], database: database).status != 0)
    }
}
