import ArgumentParser
import Foundation
import Proxy
import Store
import Telemetry

/// `spanway report`: requests, errors, latency percentiles, tokens and cost from the ledger,
/// grouped, as a table, JSON, CSV or a self-contained HTML page.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Analytics over the spend ledger: requests, error rates, latency percentiles, tokens and cost "
            + "(DATABASE_URL names the store).")

    @Option(help: "Start: a duration back from --until (7d, 12h), a date (YYYY-MM-DD) or an ISO 8601 time.")
    var since: String?
    @Option(help: "End (exclusive): a date (the whole day is included) or an ISO 8601 time; default now.")
    var until: String?
    @Option(help: "A window ending at --until, like 24h or 7d (instead of --since); default 24h.")
    var window: String?
    @Option(
        name: .customLong("group-by"),
        help: "Comma list of: \(AnalyticsDimension.allCases.map(\.rawValue).joined(separator: ", ")).")
    var groupBy: String?
    @Flag(help: "Show the previous window of equal length beside this one.") var compare = false
    @Option(help: "table, json, csv or html.") var format = "table"
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        guard let format = AnalyticsEndpoint.Format(rawValue: format) else {
            printError("error: --format must be one of table, json, csv, html")
            throw ExitCode.failure
        }
        let request: AnalyticsRequest
        do {
            request = try AnalyticsRequest.parse(
                since: since, until: until, window: window, groupBy: groupBy, compare: compare,
                now: Date().timeIntervalSince1970)
        } catch {
            printError("error: " + error.message.replacingOccurrences(of: "'group_by'", with: "--group-by"))
            throw ExitCode.failure
        }
        let store = try await GatewayBootstrap.openStore(environment: ProcessInfo.processInfo.environment)
        let report = try await AnalyticsReport.run(request, store: store)
        let text: String
        switch format {
        case .table:
            let color = output == nil && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            text = report.table(width: EvalCommand.terminalWidth, color: color)
        case .json: text = report.json().encodedString() + "\n"
        case .csv: text = report.csv()
        case .html: text = report.html()
        }
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
            printError("wrote \(output)")
        } else {
            print(text, terminator: "")
        }
    }
}
