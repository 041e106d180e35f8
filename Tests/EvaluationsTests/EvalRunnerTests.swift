import Synchronization
import Telemetry
import Testing

@testable import Evaluations

@Suite(.timeLimit(.minutes(3))) struct EvalRunnerTests {
    static let question: JSONValue = .object(["role": "user", "content": "What is the capital of France?"])

    func items(_ count: Int, expected: JSONValue? = "Paris") -> [EvalItem] {
        (0..<count).map { EvalItem(id: "q\($0)", messages: [Self.question], expected: expected) }
    }

    /// Collects the item traces a run hands to its `traces` closure.
    final class TraceCollector: Sendable {
        private let spans = Mutex<[FinishedSpan]>([])
        var sink: EvalRunner.TraceSink { { span in self.spans.withLock { $0.append(span) } } }
        var all: [FinishedSpan] { spans.withLock { $0 } }
    }

    func cell(_ report: EvalReport, item: String, model: String, sample: Int = 0) throws -> EvalCell {
        try #require(report.cells.first { $0.itemID == item && $0.model == model && $0.sample == sample })
    }

    // MARK: What is sent

    @Test func theBodyHasTheRunsParametersThenTheItemsAndASeed() async throws {
        let fake = FakeEvalTarget(answers: ["m": "Paris"])
        let plan = EvalPlan(
            runID: "eval-body", models: ["m"],
            items: [
                EvalItem(id: "plain", messages: [Self.question]),
                EvalItem(id: "own", messages: [Self.question], parameters: ["temperature": .int(1), "seed": .int(7)]),
            ],
            parameters: ["temperature": .double(0.5), "max_tokens": .int(16)], concurrency: 1, seed: 42)
        _ = await EvalRunner(plan: plan, target: fake).run()
        let sent = Dictionary(uniqueKeysWithValues: fake.sent.map { ($0.header("x-spanway-eval-item-id") ?? "", $0) })

        let plain = try #require(sent["plain"])
        #expect(plain.body["model"] == "m")
        #expect(plain.body["messages"] == .array([Self.question]))
        #expect(plain.body["temperature"]?.doubleValue == 0.5)
        #expect(plain.body["max_tokens"]?.intValue == 16)
        #expect(plain.body["seed"]?.intValue == 42)
        #expect(plain.body["stream"] == nil && plain.body["stream_options"] == nil)
        #expect(!plain.stream)

        // The item's parameters win, its own seed included.
        let own = try #require(sent["own"])
        #expect(own.body["temperature"]?.intValue == 1)
        #expect(own.body["max_tokens"]?.intValue == 16)
        #expect(own.body["seed"]?.intValue == 7)
    }

    @Test func aSeedInTheRunsParametersWinsOverTheRunsSeedAndNoSeedMeansNone() async throws {
        let seeded = FakeEvalTarget(answers: ["m": "x"])
        _ = await EvalRunner(
            plan: EvalPlan(models: ["m"], items: items(1), parameters: ["seed": .int(9)], seed: 42), target: seeded
        ).run()
        #expect(seeded.sent.map { $0.body["seed"]?.intValue } == [9])

        let unseeded = FakeEvalTarget(answers: ["m": "x"])
        _ = await EvalRunner(plan: EvalPlan(models: ["m"], items: items(1)), target: unseeded).run()
        #expect(unseeded.sent.count == 1)
        #expect(unseeded.sent.first?.body["seed"] == nil)
    }

    @Test func aStreamedRunAsksForAStreamWithUsage() async throws {
        let fake = FakeEvalTarget(answers: ["m": "Paris"])
        let report = await EvalRunner(plan: EvalPlan(models: ["m"], items: items(1), stream: true), target: fake).run()
        let sent = try #require(fake.sent.first)
        #expect(sent.stream)
        #expect(sent.body["stream"] == true)
        #expect(sent.body["stream_options"] == .object(["include_usage": true]))
        let cell = try cell(report, item: "q0", model: "m")
        #expect(cell.outcome == .answered)
        #expect(cell.answer == "Paris")
        #expect(cell.costUSD == 0.001)
        #expect(cell.inputTokens == 10 && cell.outputTokens == 2)
    }

    @Test func headersCarryTheCellsTraceAndTheEvaluation() async throws {
        let fake = FakeEvalTarget(answers: ["a": "Paris", "b": "Lyon"])
        let plan = EvalPlan(runID: "eval-headers", models: ["a", "b"], items: items(2), repeats: 2)
        let report = await EvalRunner(plan: plan, target: fake).run()
        #expect(fake.sent.count == 8)
        var seenSpans = Set<String>()
        for sent in fake.sent {
            #expect(sent.header("content-type") == "application/json")
            #expect(sent.header("x-spanway-eval-run-id") == "eval-headers")
            let itemID = try #require(sent.header("x-spanway-eval-item-id"))
            let parent = try #require(sent.header("traceparent").flatMap(TraceParent.init(header:)))
            // The request's parent is the span of exactly one cell of that item and model.
            let cells = report.cells.filter { $0.spanID == parent.spanID.hex }
            #expect(cells.count == 1)
            #expect(cells.first?.itemID == itemID)
            #expect(cells.first?.model == sent.model)
            #expect(cells.first?.traceID == parent.traceID.hex)
            #expect(parent.sampled)
            seenSpans.insert(parent.spanID.hex)
        }
        #expect(seenSpans.count == 8)
        // One trace per item: both models and samples of an item share it, items do not.
        let traces = Dictionary(grouping: report.cells, by: \.itemID).mapValues { Set($0.map(\.traceID)) }
        #expect(traces["q0"]?.count == 1 && traces["q1"]?.count == 1)
        #expect(traces["q0"] != traces["q1"])
    }

    // MARK: Concurrency

    @Test func neverMoreThanConcurrencyRequestsInFlight() async throws {
        let fake = FakeEvalTarget(holding: true, answers: ["a": "x", "b": "y", "c": "z"])
        // 2 items × 3 models × 2 samples = 12 requests, all ready at once (two items start together).
        let plan = EvalPlan(models: ["a", "b", "c"], items: items(2), concurrency: 2, repeats: 2)
        let run = Task { await EvalRunner(plan: plan, target: fake).run() }
        var arrived = 0
        for await _ in fake.arrivals {
            arrived += 1
            #expect(fake.inFlight <= 2)
            if arrived == plan.cellCount {
                fake.releaseAll()
                break
            }
            // Only when both slots are taken does the test let one request finish.
            if fake.inFlight == 2 { fake.releaseOne() }
        }
        let report = await run.value
        #expect(fake.mostInFlight == 2)
        #expect(report.status == .completed)
        #expect(report.cells.count == 12)
        #expect(report.cells.allSatisfy { $0.outcome == .answered })
    }

    // MARK: Stopping

    @Test func aSpentBudgetStopsSendingAndRefusesTheRest() async throws {
        // The key's budget lasts three requests; every later one is refused by the gateway.
        let fake = FakeEvalTarget { request, _ in
            request.number < 3
                ? .completion("Paris", stream: false)
                : .error(status: 400, type: "budget_exceeded", code: "budget_exceeded", message: "Budget has been exceeded")
        }
        let plan = EvalPlan(models: ["a", "b"], items: items(5), concurrency: 1)
        let collector = TraceCollector()
        let report = await EvalRunner(plan: plan, target: fake, traces: collector.sink).run()
        #expect(fake.sent.count == 4)
        // No item is started once the budget is gone: only the two that sent requests have traces.
        #expect(collector.all.count == 2)
        #expect(report.status == .budgetExhausted)
        #expect(report.cells.count == 10)
        #expect(report.cells.count { $0.outcome == .answered } == 3)
        #expect(report.cells.count { $0.outcome == .refused } == 7)
        #expect(report.cells.count { $0.outcome == .failed || $0.outcome == .notRun } == 0)
        // The cell the gateway refused says so; the ones never sent have no status.
        let refusedByGateway = report.cells.filter { $0.statusCode == 400 }
        #expect(refusedByGateway.count == 1)
        #expect(refusedByGateway.first?.errorKind == "budget_exceeded")
        #expect(refusedByGateway.first?.outcome == .refused)
        #expect(report.cells.count { $0.statusCode != nil } == 4)
        let summaries = Dictionary(uniqueKeysWithValues: report.summaries.map { ($0.model, $0) })
        #expect((summaries["a"]?.refused ?? 0) + (summaries["b"]?.refused ?? 0) == 7)
    }

    @Test func cancellingTheRunSendsNothingMoreAndKeepsWhatFinished() async throws {
        let fake = FakeEvalTarget(holding: true, answers: ["a": "Paris", "b": "Paris"])
        let plan = EvalPlan(models: ["a", "b"], items: items(4), concurrency: 2)
        let collector = TraceCollector()
        let run = Task { await EvalRunner(plan: plan, target: fake, traces: collector.sink).run() }
        var held: [FakeEvalTarget.Sent] = []
        for await sent in fake.arrivals {
            held.append(sent)
            if held.count == 2 { break }
        }
        run.cancel()
        // The two requests already sent still get their answers.
        fake.releaseAll()
        let report = await run.value
        #expect(fake.sent.count == 2)
        // Each item with a request sent before the cancel ends with its trace; an item none of
        // whose calls ran leaves none, and no other starts.
        let itemsSent = Set(held.compactMap { $0.header("x-spanway-eval-item-id") })
        #expect(collector.all.count == itemsSent.count)
        #expect(report.status == .interrupted)
        #expect(report.cells.count == 8)
        let heldCells = Set(held.map { "\($0.header("x-spanway-eval-item-id") ?? "")/\($0.model)" })
        for cell in report.cells {
            if heldCells.contains("\(cell.itemID)/\(cell.model)") {
                #expect(cell.outcome == .answered)
            } else {
                #expect(cell.outcome == .notRun)
                #expect(cell.statusCode == nil)
            }
        }
    }

    @Test func aRunCancelledBeforeItStartsSendsNothing() async throws {
        let fake = FakeEvalTarget(answers: ["a": "Paris"])
        let runner = EvalRunner(plan: EvalPlan(models: ["a"], items: items(3)), target: fake)
        let run = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await runner.run()
        }
        let report = await run.value
        #expect(fake.sent.isEmpty)
        #expect(report.status == .interrupted)
        #expect(report.cells.count == 3)
        #expect(report.cells.allSatisfy { $0.outcome == .notRun })
    }

    // MARK: Traces

    @Test func eachItemIsOneEvaluationTraceWithTheCallsUnderItsRoot() async throws {
        let fake = FakeEvalTarget(answers: ["a": "Paris", "b": "Lyon"])
        let collector = TraceCollector()
        let plan = EvalPlan(runID: "eval-trace", models: ["a", "b"], items: items(3), repeats: 2)
        let report = await EvalRunner(plan: plan, target: fake, traces: collector.sink).run()
        let traces = collector.all
        #expect(traces.count == 3)
        #expect(Set(traces.map(\.server.traceID.hex)).count == 3)
        for trace in traces {
            #expect(trace.kind == .evaluation)
            let root = trace.server
            #expect(root.parentSpanID == nil)
            #expect(root.attributes[AttributeName.evalRunID] == .string("eval-trace"))
            guard case .string(let itemID)? = root.attributes[AttributeName.evalItemID] else {
                Issue.record("the root span has no item id")
                continue
            }
            let cells = report.cells.filter { $0.itemID == itemID }
            #expect(cells.count == 4)
            #expect(trace.attempts.count == 4)
            #expect(Set(trace.attempts.map(\.spanID.hex)) == Set(cells.map(\.spanID)))
            for attempt in trace.attempts {
                #expect(attempt.parentSpanID == root.spanID)
                #expect(attempt.traceID == root.traceID)
                #expect(attempt.kind == .client)
                #expect(attempt.attributes[AttributeName.evalRunID] == .string("eval-trace"))
                #expect(attempt.attributes[AttributeName.evalItemID] == .string(itemID))
            }
            #expect(cells.allSatisfy { $0.traceID == root.traceID.hex })
        }
    }

    @Test func scoresAreAttributesAndEventsOnTheCellsSpan() async throws {
        let fake = FakeEvalTarget(answers: ["right": "Paris", "wrong": "London"])
        let collector = TraceCollector()
        let plan = EvalPlan(models: ["right", "wrong"], items: items(1), scorers: [.exactMatch, .contains])
        let report = await EvalRunner(plan: plan, target: fake, traces: collector.sink).run()
        let trace = try #require(collector.all.first)
        for (model, expected) in [("right", 1.0), ("wrong", 0.0)] {
            let cell = try cell(report, item: "q0", model: model)
            #expect(cell.scores == ["exact": expected, "contains": expected])
            let span = try #require(trace.attempts.first { $0.spanID.hex == cell.spanID })
            #expect(span.attributes[AttributeName.evalScore("exact")] == .double(expected))
            #expect(span.attributes[AttributeName.evalScore("contains")] == .double(expected))
            let events = span.events.filter { $0.name == "gen_ai.evaluation.result" }
            #expect(events.count == 2)
            #expect(events.map { $0.attributes["gen_ai.evaluation.name"] } == [.string("exact"), .string("contains")])
            #expect(events.allSatisfy { $0.attributes["gen_ai.evaluation.score.value"] == .double(expected) })
        }
    }

    @Test func aFailedCallIsAFailedCellWithAnErrorSpan() async throws {
        let fake = FakeEvalTarget { request, _ in
            request.model == "down"
                ? .error(status: 503, type: "upstream_unavailable", code: nil, message: "all deployments failed")
                : .completion("Paris", stream: false)
        }
        let collector = TraceCollector()
        let plan = EvalPlan(models: ["up", "down"], items: items(1), scorers: [.exactMatch])
        let report = await EvalRunner(plan: plan, target: fake, traces: collector.sink).run()
        #expect(report.status == .completed)
        let cell = try cell(report, item: "q0", model: "down")
        #expect(cell.outcome == .failed)
        #expect(cell.statusCode == 503)
        #expect(cell.errorKind == "upstream_unavailable")
        #expect(cell.errorMessage == "all deployments failed")
        #expect(cell.scores.isEmpty)
        let span = try #require(collector.all.first?.attempts.first { $0.spanID.hex == cell.spanID })
        #expect(span.attributes[AttributeName.errorType] == .string("upstream_unavailable"))
        #expect(span.status == .error(message: "all deployments failed"))
        #expect(span.events.isEmpty)
    }

    @Test func latencyAndTimeToFirstTokenComeFromTheClock() async throws {
        let clock = ManualClock(seconds: 1_800_000_000)
        let fake = FakeEvalTarget { request, firstChunk in
            clock.advance(by: .milliseconds(250))
            firstChunk()
            clock.advance(by: request.model == "slow" ? .seconds(2) : .milliseconds(500))
            return .completion("Paris", stream: request.stream)
        }
        let plan = EvalPlan(models: ["fast", "slow"], items: items(1), concurrency: 1, stream: true)
        let report = await EvalRunner(plan: plan, target: fake, clock: clock).run()
        let fast = try cell(report, item: "q0", model: "fast")
        let slow = try cell(report, item: "q0", model: "slow")
        #expect(fast.latencySeconds == 0.75 && fast.timeToFirstTokenSeconds == 0.25)
        #expect(slow.latencySeconds == 2.25 && slow.timeToFirstTokenSeconds == 0.25)
        #expect(report.startedAt == 1_800_000_000)
        #expect(report.finishedAt == 1_800_000_003)
    }

    // MARK: The judge

    @Test func theJudgeGradesThroughTheTargetAndABadVerdictLeavesNoScore() async throws {
        let fake = FakeEvalTarget { request, _ in
            switch request.model {
            case "grader":
                // The judge is confused by one answer: its reply is not the asked-for JSON.
                request.promptText.contains("London")
                    ? .completion("I would say it is mostly fine.", stream: false, price: "0.01")
                    : .completion(#"{"score": 0.75, "reason": "close enough"}"#, stream: false, price: "0.01")
            case "right": .completion("Paris", stream: false)
            default: .completion("London", stream: false)
            }
        }
        let collector = TraceCollector()
        let plan = EvalPlan(
            runID: "eval-judge", models: ["right", "wrong"], items: items(1), scorers: [.exactMatch],
            judge: JudgeSettings(model: "grader"))
        let report = await EvalRunner(plan: plan, target: fake, traces: collector.sink).run()
        #expect(report.scorers == ["exact", "judge"])
        #expect(report.judge == "grader")

        let right = try cell(report, item: "q0", model: "right")
        #expect(right.scores == ["exact": 1, "judge": 0.75])
        #expect(right.judgeReason == "close enough")
        let wrong = try cell(report, item: "q0", model: "wrong")
        #expect(wrong.scores == ["exact": 0])
        #expect(wrong.outcome == .answered)

        // Judge requests: the judge model, temperature 0, in the item's trace under a judge span.
        let judged = fake.sent.filter { $0.model == "grader" }
        #expect(judged.count == 2)
        #expect(judged.allSatisfy { $0.body["temperature"]?.intValue == 0 && $0.header("x-spanway-eval-run-id") == "eval-judge" })
        let trace = try #require(collector.all.first)
        #expect(trace.attempts.count == 4)
        let judgeSpans = trace.attempts.filter { $0.name == "judge grader" }
        #expect(judgeSpans.count == 2)
        for sent in judged {
            let parent = try #require(sent.header("traceparent").flatMap(TraceParent.init(header:)))
            #expect(judgeSpans.contains { $0.spanID == parent.spanID })
            #expect(parent.traceID == trace.server.traceID)
        }
        #expect(judgeSpans.allSatisfy { $0.parentSpanID == trace.server.spanID })

        // The judge's score is an event on the judged call's span, with its reason.
        let rightSpan = try #require(trace.attempts.first { $0.spanID.hex == right.spanID })
        let judgeEvent = try #require(
            rightSpan.events.first { $0.attributes["gen_ai.evaluation.name"] == .string("judge") })
        #expect(judgeEvent.name == "gen_ai.evaluation.result")
        #expect(judgeEvent.attributes["gen_ai.evaluation.score.value"] == .double(0.75))
        #expect(judgeEvent.attributes["gen_ai.evaluation.explanation"] == .string("close enough"))
        let wrongSpan = try #require(trace.attempts.first { $0.spanID.hex == wrong.spanID })
        #expect(!wrongSpan.events.contains { $0.attributes["gen_ai.evaluation.name"] == .string("judge") })
    }

    // MARK: Pairwise order

    @Test func swapOrderIsFixedForASeed() {
        func bits(seed: UInt64) -> [Bool] {
            (0..<200).map { EvalRunner.swapOrder(seed: seed, item: $0, sample: $0 % 3, a: $0 % 4, b: $0 % 4 + 1) }
        }
        #expect(bits(seed: 7) == bits(seed: 7))
        #expect(bits(seed: 7) != bits(seed: 8))
    }

    @Test func swapOrderIsRoughlyBalanced() {
        var swapped = 0
        var total = 0
        for item in 0..<250 {
            for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 3)] {
                total += 1
                if EvalRunner.swapOrder(seed: 42, item: item, sample: 0, a: a, b: b) { swapped += 1 }
            }
        }
        #expect(total == 1000)
        #expect((400...600).contains(swapped))
        // Along any one coordinate too: consecutive items of one pair are not all alike.
        let oneSeedPerItem = (0..<1000).count { EvalRunner.swapOrder(seed: 0, item: $0, sample: 0, a: 0, b: 1) }
        #expect((400...600).contains(oneSeedPerItem))
        let oneItemPerSeed = (0..<1000).count { EvalRunner.swapOrder(seed: UInt64($0), item: 0, sample: 0, a: 0, b: 1) }
        #expect((400...600).contains(oneItemPerSeed))
    }
}
