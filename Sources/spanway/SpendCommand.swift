import ArgumentParser
import Foundation
import Proxy
import Store

struct SpendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend", abstract: "Read the spend ledger.", subcommands: [Report.self])

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Spend grouped by team, key, user, model, provider or day (DATABASE_URL names the store).")

        @Option(help: "team, key, user, model, provider or day.") var by = "team"
        @Option(help: "How far back: a duration (7d, 12h) or a date (YYYY-MM-DD).") var since = "30d"

        func run() async throws {
            guard let grouping = SpendGrouping(rawValue: by) else {
                printError("error: --by must be one of \(SpendGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
                throw ExitCode.failure
            }
            let now = Date().timeIntervalSince1970
            let start: Double
            if let seconds = DurationText.seconds(since) {
                start = now - seconds
            } else if let date = Self.day(since) {
                start = date
            } else {
                printError("error: --since must be a duration like 7d or a date like 2026-11-01")
                throw ExitCode.failure
            }
            let store = try await GatewayBootstrap.openStore(environment: ProcessInfo.processInfo.environment)
            let totals = try await store.spendReport(by: grouping, since: Int64(start * 1000), until: nil)
            print(Self.table(totals, heading: by))
        }

        static func day(_ text: String) -> Double? {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            return formatter.date(from: text)?.timeIntervalSince1970
        }

        static func table(_ totals: [SpendTotal], heading: String) -> String {
            let rows =
                [[heading, "requests", "input tokens", "output tokens", "spend (USD)"]]
                + totals.map {
                    [
                        $0.group.isEmpty ? "(none)" : $0.group, String($0.requests), String($0.inputTokens),
                        String($0.outputTokens), String(format: "%.6f", $0.spend),
                    ]
                }
                + [
                    [
                        "total", String(totals.reduce(0) { $0 + $1.requests }), String(totals.reduce(0) { $0 + $1.inputTokens }),
                        String(totals.reduce(0) { $0 + $1.outputTokens }),
                        String(format: "%.6f", totals.reduce(0) { $0 + $1.spend }),
                    ]
                ]
            let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.enumerated().map { index, row in
                let line = row.enumerated().map { column, cell in
                    let pad = String(repeating: " ", count: widths[column] - cell.count)
                    return column == 0 ? cell + pad : pad + cell
                }.joined(separator: "  ")
                return index == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
            }.joined(separator: "\n")
        }
    }
}
