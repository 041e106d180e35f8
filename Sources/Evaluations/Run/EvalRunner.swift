import Synchronization
import Telemetry

/// Runs a plan: every item to every model in parallel (at most `concurrency` requests in
/// flight), scores each answer, and records one trace per item whose root span is the parent of
/// every model and judge call.
///
/// Stops sending, and keeps what finished, when its task is cancelled (Ctrl-C) or when the
/// caller's budget runs out (the gateway answers `budget_exceeded`): the cells never sent are
/// reported as `not_run` or `refused`.
public final class EvalRunner: Sendable {
    public typealias TraceSink = @Sendable (FinishedSpan) -> Void
    public typealias ProgressSink = @Sendable (EvalProgress) -> Void

    let plan: EvalPlan
    let target: any EvalTarget
    let clock: any GatewayClock
    let traces: TraceSink?
    let progress: ProgressSink?
    /// Unix seconds, on `clock`.
    let startedAt: Double
    private let limit: ConcurrencyLimit
    private let state: Mutex<State>

    private struct State {
        var cells: [CellKey: EvalCell] = [:]
        var pairwise: PairwiseTally
        var budgetExhausted = false
        var spentUSD = 0.0
        var finishedAt: Double?
        var status = EvalReport.Status.running
    }

    struct CellKey: Hashable {
        var item: Int
        var model: Int
        var sample: Int
    }

    public init(
        plan: EvalPlan, target: any EvalTarget, clock: any GatewayClock = SystemClock(), traces: TraceSink? = nil,
        progress: ProgressSink? = nil
    ) {
        self.plan = plan
        self.target = target
        self.clock = clock
        self.traces = traces
        self.progress = progress
        self.limit = ConcurrencyLimit(plan.concurrency)
        self.state = Mutex(State(pairwise: PairwiseTally(models: plan.models)))
        self.startedAt = clock.nowSeconds()
    }

    /// Runs to the end, or until cancelled or out of budget, and returns the report.
    public func run() async -> EvalReport {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for index in plan.items.indices {
                if running >= max(1, plan.concurrency) {
                    await group.next()
                    running -= 1
                }
                // Checked after the wait: the item that just ended may have spent the budget.
                if Task.isCancelled || budgetExhausted { break }
                group.addTask { await self.runItem(index) }
                running += 1
            }
            await group.waitForAll()
        }
        let status: EvalReport.Status =
            budgetExhausted ? .budgetExhausted : (Task.isCancelled || cellsNotRun > 0 ? .interrupted : .completed)
        state.withLock {
            $0.finishedAt = clock.nowSeconds()
            $0.status = status
        }
        return report()
    }

    /// The report as it stands: finished cells, and every cell not run yet as `not_run`.
    public func report() -> EvalReport {
        let (cells, pairwise, finishedAt, status) = state.withLock { state in
            (state.cells, state.pairwise.records, state.finishedAt, state.status)
        }
        // Cells never reached: refused when the budget ran out, else not run (yet, or ever).
        let unreached: EvalCell.Outcome = status == .budgetExhausted ? .refused : .notRun
        var ordered: [EvalCell] = []
        ordered.reserveCapacity(plan.cellCount)
        for item in plan.items.indices {
            for model in plan.models.indices {
                for sample in 0..<plan.repeats {
                    let key = CellKey(item: item, model: model, sample: sample)
                    ordered.append(
                        cells[key]
                            ?? EvalCell(
                                itemID: plan.items[item].id, model: plan.models[model], sample: sample, outcome: unreached,
                                traceID: "", spanID: ""))
                }
            }
        }
        let scorers = plan.scorerNames
        return EvalReport(
            runID: plan.runID, status: status, startedAt: startedAt, finishedAt: finishedAt, models: plan.models,
            scorers: scorers, judge: plan.judge?.model, itemCount: plan.items.count, repeats: plan.repeats,
            cells: ordered,
            summaries: EvalSummarizer.summaries(cells: ordered, models: plan.models, scorers: scorers),
            pairwise: pairwise,
            disagreements: EvalSummarizer.disagreements(cells: ordered, models: plan.models))
    }

    public var currentProgress: EvalProgress {
        state.withLock { state in
            let done = state.cells.count
            let failed = state.cells.values.count { $0.outcome == .failed }
            let refused = state.cells.values.count { $0.outcome == .refused }
            return EvalProgress(
                done: done, total: plan.cellCount, failed: failed, refused: refused, spentUSD: state.spentUSD,
                elapsedSeconds: max(0, clock.nowSeconds() - startedAt))
        }
    }

    private var budgetExhausted: Bool { state.withLock { $0.budgetExhausted } }
    private var cellsNotRun: Int { state.withLock { plan.cellCount - $0.cells.count } }

    // MARK: One item

    /// Every model and sample of one item in parallel, then the pairwise comparisons, under one
    /// root span; the item's trace goes out once all its calls ended.
    private func runItem(_ index: Int) async {
        let item = plan.items[index]
        let root = Span(name: "evaluate \(item.id)", kind: .internal, parent: nil)
        root.setAttributes([
            (AttributeName.evalRunID, .string(plan.runID)), (AttributeName.evalItemID, .string(item.id)),
            ("spanway.eval.models", .stringArray(plan.models)),
        ])
        let calls = await withTaskGroup(of: CellCalls.self) { group in
            for model in plan.models.indices {
                for sample in 0..<plan.repeats {
                    group.addTask {
                        await self.runCell(CellKey(item: index, model: model, sample: sample), root: root)
                    }
                }
            }
            var calls: [CellCalls] = []
            for await finished in group { calls.append(finished) }
            return calls
        }
        var spans = calls.flatMap { ($0.cell.map { [$0.span] } ?? []) + $0.judgeSpans }
        if let judge = plan.judge, judge.pairwise {
            let answers = calls.compactMap(\.cell).reduce(into: [CellKey: String]()) { answers, call in
                if let answer = call.answer { answers[call.key] = answer }
            }
            spans += await comparePairs(item: index, answers: answers, judge: judge, root: root)
        }
        let rootData = root.end()
        // An item none of whose calls ran (interrupted, out of budget) leaves no trace.
        guard !spans.isEmpty else { return }
        traces?(
            FinishedSpan(
                server: rootData, attempts: spans,
                summary: RequestSummary(requestID: "\(plan.runID)/\(item.id)", operation: "evaluation"),
                kind: .evaluation))
    }

    /// What one cell left in its item's trace: its own call (nil when it never ran) and the
    /// judge's call about it.
    struct CellCalls: Sendable {
        struct Call: Sendable {
            var key: CellKey
            var span: SpanData
            /// The answer, for pairwise judging.
            var answer: String?
        }

        var cell: Call?
        var judgeSpans: [SpanData] = []
    }

    // MARK: One cell

    private func runCell(_ key: CellKey, root: Span) async -> CellCalls {
        let item = plan.items[key.item]
        let model = plan.models[key.model]
        let span = root.child(name: "chat \(model)", kind: .client)
        span.setAttributes([
            (AttributeName.operationName, .string("chat")), (AttributeName.requestModel, .string(model)),
            (AttributeName.evalRunID, .string(plan.runID)), (AttributeName.evalItemID, .string(item.id)),
            (AttributeName.evalSample, .int(Int64(key.sample))),
        ])
        var cell = EvalCell(
            itemID: item.id, model: model, sample: key.sample, outcome: .notRun, traceID: span.traceID.hex,
            spanID: span.spanID.hex)
        var calls = CellCalls()
        if await limit.acquire() {
            defer { limit.release() }
            if budgetExhausted {
                cell.outcome = .refused
                cell.errorKind = "budget_exceeded"
            } else if !Task.isCancelled {
                // A slot handed over just before the run was cancelled is given back unused.
                await send(item: item, model: model, span: span, into: &cell)
            }
        }
        if cell.outcome == .answered, let answer = cell.answer {
            for scorer in plan.scorers {
                if let score = scorer.score(answer, item: item) { cell.scores[scorer.name] = score }
            }
            if let judge = plan.judge {
                calls.judgeSpans.append(await grade(answer, item: item, judge: judge, root: root, cell: &cell))
            }
        }
        record(cell, on: span)
        let data = span.end()
        guard cell.outcome != .notRun else { return calls }
        finish(cell, key: key)
        calls.cell = CellCalls.Call(key: key, span: data, answer: cell.outcome == .answered ? cell.answer : nil)
        return calls
    }

    /// Sends one model call and reads its answer into `cell`.
    private func send(item: EvalItem, model: String, span: Span, into cell: inout EvalCell) async {
        let request = EvalRequest(
            body: body(model: model, messages: item.messages, parameters: item.parameters).encoded(),
            headers: headers(span: span, item: item), stream: plan.stream)
        let started = clock.nowNanos()
        let firstChunk = Mutex<UInt64?>(nil)
        let response = await target.send(request) { [clock] in
            firstChunk.withLock { $0 = $0 ?? clock.nowNanos() }
        }
        let ended = clock.nowNanos()
        let answer = EvalAnswer(response, streamed: plan.stream)
        cell.statusCode = response.status == 0 ? nil : response.status
        cell.costUSD = answer.costUSD
        cell.inputTokens = answer.inputTokens
        cell.outputTokens = answer.outputTokens
        if answer.errorKind != nil, Task.isCancelled {
            // Interrupted in flight: the failure may be the cancellation's own doing.
            cell.outcome = .notRun
            return
        }
        if let kind = answer.errorKind {
            cell.errorKind = kind
            cell.errorMessage = answer.errorMessage
            if kind == Self.budgetExceeded {
                cell.outcome = .refused
                state.withLock { $0.budgetExhausted = true }
            } else {
                cell.outcome = .failed
            }
            return
        }
        cell.outcome = .answered
        cell.answer = answer.text
        cell.latencySeconds = Double(ended &- started) / 1e9
        if plan.stream, let first = firstChunk.withLock({ $0 }) {
            cell.timeToFirstTokenSeconds = Double(first &- started) / 1e9
        }
    }

    /// The gateway's error code for a spent budget.
    static let budgetExceeded = "budget_exceeded"

    private func body(model: String, messages: [JSONValue], parameters: JSONObject) -> JSONValue {
        var body: JSONObject = ["model": .string(model), "messages": .array(messages)]
        for (key, value) in plan.parameters.members { body[key] = value }
        for (key, value) in parameters.members { body[key] = value }
        if let seed = plan.seed, body["seed"] == nil { body["seed"] = .number(String(seed)) }
        if plan.stream {
            body["stream"] = true
            body["stream_options"] = .object(["include_usage": true])
        }
        return .object(body)
    }

    private func headers(span: Span, item: EvalItem) -> [(String, String)] {
        [
            ("content-type", "application/json"), ("traceparent", span.traceParent.header),
            ("x-spanway-eval-run-id", EvaluationLabel.headerValue(plan.runID)),
            ("x-spanway-eval-item-id", EvaluationLabel.headerValue(item.id)),
        ]
    }

    /// A cell's outcome and scores on its span: attributes, and one `gen_ai.evaluation.result`
    /// event per score, as OpenTelemetry's GenAI conventions put evaluations.
    private func record(_ cell: EvalCell, on span: Span) {
        span[attribute: "spanway.eval.outcome"] = .string(cell.outcome.rawValue)
        span[attribute: AttributeName.usageInputTokens] = .int(Int64(cell.inputTokens))
        span[attribute: AttributeName.usageOutputTokens] = .int(Int64(cell.outputTokens))
        span[attribute: AttributeName.usageCost] = .double(cell.costUSD)
        if let kind = cell.errorKind {
            span[attribute: AttributeName.errorType] = .string(kind)
            span.setStatus(.error(message: cell.errorMessage ?? kind))
        }
        for name in plan.scorerNames {
            guard let score = cell.scores[name] else { continue }
            span[attribute: AttributeName.evalScore(name)] = .double(score)
            var attributes = Attributes()
            attributes[AttributeName.evaluationName] = .string(name)
            attributes[AttributeName.evaluationScoreValue] = .double(score)
            if name == JudgeSettings.scorerName, let reason = cell.judgeReason {
                attributes[AttributeName.evaluationExplanation] = .string(reason)
            }
            span.addEvent(AttributeName.evaluationResultEvent, attributes: attributes)
        }
    }

    private func finish(_ cell: EvalCell, key: CellKey) {
        state.withLock { state in
            state.cells[key] = cell
            state.spentUSD += cell.costUSD
        }
        progress?(currentProgress)
    }

    private func addSpend(_ cost: Double) {
        state.withLock { $0.spentUSD += cost }
    }

    // MARK: The judge

    /// Asks the judge to grade one answer; its verdict becomes the cell's `judge` score. A judge
    /// call that fails, or whose verdict is not the asked-for JSON, leaves the cell unscored.
    private func grade(_ answer: String, item: EvalItem, judge: JudgeSettings, root: Span, cell: inout EvalCell) async
        -> SpanData
    {
        let messages = JudgePrompt.grading(item: item, answer: answer, rubric: judge.rubric)
        let (reply, data) = await askJudge(judge, messages: messages, item: item, root: root, about: cell.model)
        guard let reply else { return data }
        do {
            let verdict = try JudgeVerdict.parseGrade(reply)
            cell.scores[JudgeSettings.scorerName] = verdict.score
            cell.judgeReason = verdict.reason
        } catch {
            cell.judgeReason = "unparseable verdict: \(error)"
        }
        return data
    }

    /// One judge call under the item's root span; its text, or nil when it failed.
    private func askJudge(_ judge: JudgeSettings, messages: [JSONValue], item: EvalItem, root: Span, about: String) async
        -> (String?, SpanData)
    {
        let span = root.child(name: "judge \(judge.model)", kind: .client)
        span.setAttributes([
            (AttributeName.operationName, .string("chat")), (AttributeName.requestModel, .string(judge.model)),
            (AttributeName.evalRunID, .string(plan.runID)), (AttributeName.evalItemID, .string(item.id)),
            ("spanway.eval.judged", .string(about)),
        ])
        var text: String?
        if await limit.acquire() {
            defer { limit.release() }
            if !budgetExhausted, !Task.isCancelled {
                var body: JSONObject = [
                    "model": .string(judge.model), "messages": .array(messages), "temperature": .int(0),
                ]
                if let seed = plan.seed { body["seed"] = .number(String(seed)) }
                let response = await target.send(
                    EvalRequest(body: JSONValue.object(body).encoded(), headers: headers(span: span, item: item), stream: false)
                ) {}
                let answer = EvalAnswer(response, streamed: false)
                addSpend(answer.costUSD)
                span[attribute: AttributeName.usageCost] = .double(answer.costUSD)
                if let kind = answer.errorKind {
                    span[attribute: AttributeName.errorType] = .string(kind)
                    span.setStatus(.error(message: answer.errorMessage ?? kind))
                    if kind == Self.budgetExceeded { state.withLock { $0.budgetExhausted = true } }
                } else {
                    text = answer.text
                }
            }
        }
        return (text, span.end())
    }

    /// Every two models' answers to the same item and sample, judged side by side. Which answer
    /// the judge sees first alternates (seeded), so position bias averages out.
    private func comparePairs(item index: Int, answers: [CellKey: String], judge: JudgeSettings, root: Span) async
        -> [SpanData]
    {
        let item = plan.items[index]
        var spans: [SpanData] = []
        for sample in 0..<plan.repeats {
            for a in plan.models.indices {
                for b in plan.models.indices where b > a {
                    guard !Task.isCancelled,
                        let first = answers[CellKey(item: index, model: a, sample: sample)],
                        let second = answers[CellKey(item: index, model: b, sample: sample)]
                    else { continue }
                    let swap = Self.swapOrder(seed: plan.seed ?? 0, item: index, sample: sample, a: a, b: b)
                    let messages = JudgePrompt.comparison(
                        item: item, first: swap ? second : first, second: swap ? first : second, rubric: judge.rubric)
                    let (reply, span) = await askJudge(
                        judge, messages: messages, item: item, root: root,
                        about: "\(plan.models[a]) vs \(plan.models[b])")
                    spans.append(span)
                    guard let reply, let verdict = try? JudgeVerdict.parseComparison(reply) else { continue }
                    var winner = verdict.winner
                    if swap { winner = winner.swapped }
                    state.withLock { $0.pairwise.record(a: plan.models[a], b: plan.models[b], winner: winner) }
                }
            }
        }
        return spans
    }

    /// A fixed pseudo-random bit per comparison (SplitMix64 of its coordinates).
    static func swapOrder(seed: UInt64, item: Int, sample: Int, a: Int, b: Int) -> Bool {
        var x = seed &+ UInt64(item) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(sample << 20 | a << 10 | b)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return (x ^ (x >> 31)) & 1 == 1
    }
}
