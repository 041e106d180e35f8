import ArgumentParser
import AsyncHTTPClient
@preconcurrency import Dispatch
import Evaluations
import Foundation
import Logging
import Proxy
import Synchronization
import Telemetry

/// `spanway eval`: one dataset, several models, one comparison whose every cell is a real,
/// priced, traced request through the gateway.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Send every item of a dataset to several models and compare their answers, costs and latencies.",
        discussion: """
            Runs against the config in this process (--config) or a running gateway (--url and --key, so \
            the key's budgets apply). Writes report.json, report.csv and report.html to --output and prints \
            a table. Ctrl-C stops sending and still writes what finished; a second Ctrl-C quits at once.
            """)

    @Option(
        help:
            "JSON Lines dataset: one item per line ({\"id\", \"messages\" or \"input\", \"expected\", \"parameters\", \"metadata\"})."
    )
    var dataset: String
    @Option(help: "Comma-separated model groups to compare.") var models: String
    @Option(help: "Run against this config in-process.") var config: String?
    @Option(help: "Run against a running gateway at this URL.") var url: String?
    @Option(help: "The virtual key (or master key) to send with --url; defaults to SPANWAY_API_KEY.") var key: String?
    @Option(
        name: .customLong("scorer"),
        help: "A scorer: exact, contains, regex[:PATTERN], json, json-schema[:@FILE], numeric[:TOLERANCE]. Repeatable.")
    var scorers: [String] = []
    @Option(help: "A model group that grades each answer against the rubric (score 0–1).") var judge: String?
    @Option(help: "The judge's rubric, or @FILE.") var rubric: String?
    @Flag(help: "Also ask the judge to compare every two models' answers (win rates).") var pairwise = false
    @Option(help: "Sampling temperature for every request.") var temperature: Double?
    @Option(name: .customLong("max-tokens"), help: "max_tokens for every request.") var maxTokens: Int?
    @Option(name: .customLong("param"), help: "Another request field for every request, KEY=JSON (e.g. top_p=0.9). Repeatable.")
    var params: [String] = []
    @Option(help: "Requests in flight at once.") var concurrency = 8
    @Option(name: .customLong("repeat"), help: "Samples per item and model.") var repeats = 1
    @Option(help: "Use only the first N items.") var limit: Int?
    @Option(help: "Sent as each request's seed; also fixes the order the pairwise judge sees answers in.") var seed: UInt64?
    @Flag(help: "Stream the answers (measures time to first token).") var stream = false
    @Option(help: "Directory for report.json, report.csv and report.html (default: spanway-eval-<run id>).") var output: String?

    func validate() throws {
        guard (config == nil) != (url == nil) else { throw ValidationError("give exactly one of --config and --url") }
        guard concurrency >= 1, concurrency <= 1024 else { throw ValidationError("--concurrency must be 1 to 1024") }
        guard repeats >= 1, repeats <= 100 else { throw ValidationError("--repeat must be 1 to 100") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if pairwise && judge == nil { throw ValidationError("--pairwise needs --judge") }
        if rubric != nil && judge == nil { throw ValidationError("--rubric needs --judge") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let plan = try makePlan()
        // The gateway's warnings (an upstream failed) are the report's content, not news to print
        // over the progress line; LOG_LEVEL brings them back.
        var logger = makeLogger("spanway-eval")
        if environment["LOG_LEVEL"] == nil { logger.logLevel = .error }
        let client = GatewayBootstrap.makeHTTPClient()
        let report: EvalReport
        do {
            report = try await execute(plan, environment: environment, client: client, logger: logger)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        try write(report)
        // Scripts can tell a partial comparison from a whole one.
        if report.status == .interrupted { throw ExitCode(130) }
    }

    /// Runs the plan against the gateway in this process or at `--url`, with the trace sinks
    /// running until every item's trace is out.
    private func execute(_ plan: EvalPlan, environment: [String: String], client: HTTPClient, logger: Logger) async throws
        -> EvalReport
    {
        let target: any EvalTarget
        let pipeline: Pipeline?
        var gateway: Gateway?
        if let config {
            var gatewayConfig = try loadConfig(config, environment: environment)
            var environment = environment
            applyEnvironmentVariables(of: gatewayConfig, to: &environment)
            if let master = environment["SPANWAY_MASTER_KEY"], !master.isEmpty { gatewayConfig.masterKey = master }
            var bootstrap = GatewayBootstrap(config: gatewayConfig, environment: environment, httpClient: client, logger: logger)
            try await bootstrap.openStore()
            let made = try bootstrap.makeGateway()
            await made.ledger?.flush()
            target = GatewayEvalTarget(gateway: made, key: key ?? gatewayConfig.masterKey)
            pipeline = made.pipeline
            gateway = made
        } else {
            target = HTTPEvalTarget(baseURL: url ?? "", key: key ?? environment["SPANWAY_API_KEY"], client: client)
            pipeline = GatewayBootstrap.tracePipeline(environment: environment, httpClient: client, logger: logger)
        }
        let sinks = pipeline.map { pipeline in Task { try await pipeline.run() } }
        let printer = ProgressPrinter()
        var traces: EvalRunner.TraceSink?
        if let pipeline { traces = { pipeline.emit($0) } }
        let runner = EvalRunner(plan: plan, target: target, traces: traces, progress: { printer.show($0) })
        printError("evaluation \(plan.runID): \(plan.items.count) items × \(plan.models.count) models × \(plan.repeats)")
        let run = Task { await runner.run() }
        let interrupts = Interrupts { run.cancel() }
        let report = await run.value
        interrupts.stop()
        printer.finish()
        pipeline?.close()
        try await sinks?.value
        await gateway?.ledger?.close()
        return report
    }

    private func makePlan() throws -> EvalPlan {
        guard let bytes = FileManager.default.contents(atPath: dataset) else {
            throw ValidationError("cannot read the dataset \(dataset)")
        }
        let items: [EvalItem]
        do {
            items = try EvalDataset.parse(jsonLines: Array(bytes), limit: limit)
        } catch {
            throw ValidationError("\(dataset): \(error)")
        }
        let names = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty, Set(names).count == names.count else {
            throw ValidationError("--models must name one or more different model groups")
        }
        var parsedScorers: [Scorer] = []
        for spec in scorers {
            do {
                parsedScorers.append(try Scorer.parse(spec, readFile: Self.read))
            } catch {
                throw ValidationError(error.description)
            }
        }
        var parameters: JSONObject = [:]
        if let temperature { parameters["temperature"] = .double(temperature) }
        if let maxTokens { parameters["max_tokens"] = .int(maxTokens) }
        for param in params {
            guard let equals = param.firstIndex(of: "="), equals != param.startIndex else {
                throw ValidationError("--param \(param): expected KEY=VALUE")
            }
            let name = String(param[..<equals])
            let text = String(param[param.index(after: equals)...])
            guard !["model", "messages", "stream", "stream_options"].contains(name) else {
                throw ValidationError("--param \(name) is set by the evaluation")
            }
            parameters[name] = (try? JSONParser.parse(text)) ?? .string(text)
        }
        var judgeSettings = judge.map { JudgeSettings(model: $0, pairwise: pairwise) }
        if let rubric {
            let text = rubric.hasPrefix("@") ? String(decoding: try Self.read(String(rubric.dropFirst())), as: UTF8.self) : rubric
            judgeSettings?.rubric = JudgeRubric(text: text)
        }
        return EvalPlan(
            models: names, items: items, parameters: parameters, concurrency: concurrency, repeats: repeats,
            stream: stream, scorers: parsedScorers, judge: judgeSettings, seed: seed)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        return Array(data)
    }

    /// The table on standard output, the three files in the output directory.
    private func write(_ report: EvalReport) throws {
        let directory = output ?? "spanway-eval-\(report.runID)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("report.json", report.json.encodedString()), ("report.csv", report.csv),
            ("report.html", EvalHTMLReport.render(report)),
        ]
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        }
        let color = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        print(EvalTable.render(report, width: Self.terminalWidth, color: color))
        print("status: \(report.status.rawValue); reports in \(directory)/ (report.json, report.csv, report.html)")
    }

    static var terminalWidth: Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 120
    }
}

/// The progress line on standard error: redrawn in place on a terminal (at most ten times a
/// second), a plain line every ten seconds otherwise.
final class ProgressPrinter: Sendable {
    private let tty = isatty(STDERR_FILENO) == 1
    private let last = Mutex<(UInt64, Bool)>((0, false))

    func show(_ progress: EvalProgress) {
        let now = WallClock.nowNanos()
        let interval: UInt64 = tty ? 100_000_000 : 10_000_000_000
        let due = last.withLock { state -> Bool in
            guard now &- state.0 >= interval || progress.done == progress.total else { return false }
            state = (now, true)
            return true
        }
        guard due else { return }
        let line = progress.line(tty: tty, width: EvalCommand.terminalWidth)
        FileHandle.standardError.write(Data((tty ? "\r" + line + "\u{1B}[K" : line + "\n").utf8))
    }

    func finish() {
        if tty, last.withLock({ $0.1 }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// Ctrl-C while a run is going: the first stops sending (what finished is still written), the
/// second quits at once.
final class Interrupts {
    private let source: any DispatchSourceSignal

    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let count = Mutex(0)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "spanway.eval.signals"))
        source.setEventHandler {
            let seen = count.withLock { count -> Int in
                count += 1
                return count
            }
            if seen == 1 {
                printError("\nstopping: no more requests are sent; what finished is written (Ctrl-C again to quit now)")
                onFirst()
            } else {
                exit(130)
            }
        }
        source.resume()
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
