import AsyncHTTPClient
import Evaluations
import Foundation
import GatewayTesting
import Logging
import Store
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy

/// `spanway eval` end to end: three models on an upstream with known latencies, answers, usage
/// and prices, through a real gateway with OTLP and the ledger on. Every expected figure is
/// computed here from `EvalUpstream`'s behaviour and the configured prices.
@Suite(.timeLimit(.minutes(2))) struct EvaluationEndToEndTests {
    static let items = (1...6).map { n in
        EvalItem(
            id: "q\(n)", messages: [.object(["role": "user", "content": .string("Question \(n)")])],
            expected: .string("answer-\(n)"))
    }
    static let models = ["alpha", "beta", "gamma"]

    /// A gateway in front of `EvalUpstream`, and the upstream.
    func withGateway(
        hold: EvalUpstream.Hold? = nil, settings: String? = nil, environment: [String: String] = [:],
        _ body: (Harness, EvalUpstream) async throws -> Void
    ) async throws {
        var logger = Logger(label: "eval-upstream")
        logger.logLevel = .critical
        let upstream = EvalUpstream(clock: TestTime.clock(), hold: hold)
        let server = try await TestServer.start(upstream.router(), logger: logger)
        do {
            let base = "http://127.0.0.1:\(server.port)/v1"
            let config = settings.map { EvalUpstream.config(base: base, settings: $0) } ?? EvalUpstream.config(base: base)
            try await Harness.with(config: config, environment: environment, logger: logger) { h in
                try await body(h, upstream)
            }
        } catch {
            hold?.release.finish()
            try? await server.stop()
            throw error
        }
        hold?.release.finish()
        try await server.stop()
    }

    func runner(_ plan: EvalPlan, _ h: Harness, _ upstream: EvalUpstream, key: String = Harness.master) -> EvalRunner {
        EvalRunner(
            plan: plan, target: GatewayEvalTarget(gateway: h.gateway, key: key), clock: upstream.clock,
            traces: { [pipeline = h.gateway.pipeline] in pipeline.emit($0) })
    }

    @Test func tableMatchesTheModelsBehaviourAndPrices() async throws {
        try await withGateway { h, upstream in
            let plan = EvalPlan(models: Self.models, items: Self.items, concurrency: 1, scorers: [.exactMatch, .contains])
            let report = await runner(plan, h, upstream).run()
            #expect(report.status == .completed)
            #expect(report.cells.count == 18)
            for name in Self.models {
                let model = try #require(EvalUpstream.models[name])
                let summary = try #require(report.summaries.first { $0.model == name })
                let answered = (1...6).filter { model.answer($0) != nil }
                let right = answered.filter { model.answer($0) == "answer-\($0)" }
                #expect(summary.sent == 6)
                #expect(summary.answered == answered.count)
                #expect(summary.errors.values.reduce(0, +) == 6 - answered.count)
                #expect(summary.refused == 0)
                let latencies = answered.map { model.latency($0).seconds }
                #expect(try abs(#require(summary.latencyP50) - Self.percentile(latencies, 0.5)) < 1e-9)
                #expect(try abs(#require(summary.latencyP95) - Self.percentile(latencies, 0.95)) < 1e-9)
                #expect(summary.inputTokens == answered.count * model.inputTokens)
                #expect(summary.outputTokens == answered.count * model.outputTokens)
                let cost =
                    Double(answered.count)
                    * (Double(model.inputTokens) * model.inputPrice + Double(model.outputTokens) * model.outputPrice)
                #expect(abs(summary.totalCostUSD - cost) < 1e-11)
                #expect(try abs(#require(summary.costPerAnswerUSD) - cost / Double(answered.count)) < 1e-11)
                let exact = try #require(summary.scores.first { $0.scorer == "exact" })
                #expect(exact.count == answered.count)
                #expect(abs(exact.mean - Double(right.count) / Double(answered.count)) < 1e-12)
            }
            let failed = report.cells.filter { $0.outcome == .failed }
            #expect(failed.map(\.itemID).sorted() == ["q1", "q3", "q5"] && failed.allSatisfy { $0.model == "gamma" })
            #expect(failed.allSatisfy { ($0.statusCode ?? 0) >= 500 && $0.errorKind != nil })
            // Where the models disagree: beta is wrong on odd items, where alpha is right.
            #expect(Set(report.disagreements.map(\.itemID)) == ["q1", "q3", "q5"])

            try await expectTraces(of: report, in: h)
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000)).filter { $0.evalRunID == plan.runID }
            #expect(rows.count == 18)
            #expect(Set(rows.map { "\($0.evalItemID ?? "")/\($0.modelGroup ?? "")" }).count == 18)
            #expect(Set(rows.compactMap(\.evalItemID)) == Set(Self.items.map(\.id)))
        }
    }

    /// Each cell's span is in its item's trace, under the item's root span, and is the parent of
    /// the gateway's SERVER span for that request; scores are on it as attributes and events.
    func expectTraces(of report: EvalReport, in h: Harness) async throws {
        try await h.eventually("every item's root span is exported") {
            let names = Set(h.receiver.spans.map(\.name))
            return Self.items.allSatisfy { names.contains("evaluate \($0.id)") }
        }
        let spans = h.receiver.spans
        let byID = Dictionary(spans.map { ($0.hex, $0) }, uniquingKeysWith: { first, _ in first })
        for cell in report.cells {
            let span = try #require(byID[cell.spanID], "cell \(cell.itemID)/\(cell.model) has an exported span")
            #expect(span.traceHex == cell.traceID)
            let root = try #require(byID[span.parentHex])
            #expect(root.name == "evaluate \(cell.itemID)")
            #expect(root.parentSpanID.isEmpty)
            #expect(root[attribute: "spanway.eval.run_id"]?.stringValue == report.runID)
            #expect(root[attribute: "spanway.eval.item_id"]?.stringValue == cell.itemID)
            let server = spans.filter { $0.parentHex == cell.spanID && $0.kind == .server }
            #expect(server.count == 1, "the gateway's request span is the cell span's child")
            #expect(server.first?[attribute: "spanway.eval.run_id"]?.stringValue == report.runID)
            for (scorer, score) in cell.scores {
                #expect(span[attribute: "spanway.eval.score.\(scorer)"]?.numberValue == score)
                let events = span.events.filter { $0.name == "gen_ai.evaluation.result" }
                let event = events.first { event in
                    let name = event.attributes.first { $0.key == "gen_ai.evaluation.name" }
                    return name?.value.stringValue == scorer
                }
                let value = event?.attributes.first { $0.key == "gen_ai.evaluation.score.value" }
                #expect(value?.value.numberValue == score)
            }
        }
    }

    @Test func judgeGradesAndComparesPairs() async throws {
        try await withGateway { h, upstream in
            let plan = EvalPlan(
                models: Self.models, items: Self.items, concurrency: 4, scorers: [.exactMatch],
                judge: JudgeSettings(model: "judge", pairwise: true), seed: 7)
            let report = await runner(plan, h, upstream).run()
            #expect(report.status == .completed)
            #expect(report.scorers == ["exact", "judge"])
            func judged(_ model: String) -> [String: Double] {
                Dictionary(
                    uniqueKeysWithValues: report.cells.filter { $0.model == model }.compactMap { cell in
                        cell.scores["judge"].map { (cell.itemID, $0) }
                    })
            }
            // Item 6's verdict is prose: no judge score for it, and the reason says why.
            #expect(judged("alpha") == ["q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 1])
            #expect(judged("beta") == ["q1": 0.25, "q2": 1, "q3": 0.25, "q4": 1, "q5": 0.25])
            #expect(judged("gamma") == ["q2": 1, "q4": 1])
            #expect(report.cells.filter { $0.itemID == "q6" && $0.outcome == .answered }.allSatisfy { $0.scores["judge"] == nil })
            let beta = try #require(report.summaries.first { $0.model == "beta" }?.scores.first { $0.scorer == "judge" })
            #expect(beta.count == 5 && abs(beta.mean - 0.55) < 1e-12)
            // Pairs judged on items 1–5 where both answered; the right answer wins, two right tie.
            let pairs = Dictionary(uniqueKeysWithValues: report.pairwise.map { ("\($0.a)-\($0.b)", $0) })
            #expect(pairs["alpha-beta"].map { [$0.winsA, $0.winsB, $0.ties] } == [3, 0, 2])
            #expect(pairs["alpha-gamma"].map { [$0.winsA, $0.winsB, $0.ties] } == [0, 0, 2])
            #expect(pairs["beta-gamma"].map { [$0.winsA, $0.winsB, $0.ties] } == [0, 0, 2])
            #expect(abs((pairs["alpha-beta"]?.winRateA ?? 0) - 0.8) < 1e-12)
            // Judge calls are in the item's trace too, and on the ledger with the run id.
            try await expectTraces(of: report, in: h)
            let judgeSpans = h.receiver.spans.filter { $0.name == "judge judge" }
            // One grading per answer, one comparison per pair of models that both answered an item.
            let gradings = report.cells.filter { $0.outcome == .answered }.count
            let comparisons = (1...6).map { n in
                let answered = Self.models.filter { EvalUpstream.models[$0]?.answer(n) != nil }.count
                return answered * (answered - 1) / 2
            }.reduce(0, +)
            #expect(judgeSpans.count == gradings + comparisons)
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000)).filter { $0.evalRunID == plan.runID }
            #expect(rows.filter { $0.modelGroup == "judge" }.count == gradings + comparisons)
        }
    }

    @Test func streamedAnswersMeasureTimeToFirstToken() async throws {
        try await withGateway { h, upstream in
            let plan = EvalPlan(models: ["alpha"], items: Self.items, concurrency: 1, stream: true, scorers: [.exactMatch])
            let report = await runner(plan, h, upstream).run()
            let model = try #require(EvalUpstream.models["alpha"])
            let summary = try #require(report.summaries.first)
            #expect(summary.answered == 6)
            #expect(report.cells.allSatisfy { $0.answer == "answer-\($0.itemID.dropFirst())" })
            // The whole answer is written after the simulated latency, so its first chunk comes then too.
            let latencies = (1...6).map { model.latency($0).seconds }
            #expect(try abs(#require(summary.timeToFirstTokenP50) - Self.percentile(latencies, 0.5)) < 1e-9)
            #expect(summary.outputTokens == 6 * model.outputTokens)
            let cost = 6 * (Double(model.inputTokens) * model.inputPrice + Double(model.outputTokens) * model.outputPrice)
            #expect(abs(summary.totalCostUSD - cost) < 1e-11, "streamed cost comes from the trailers")

            // Over HTTP the trailer is out of reach; the usage chunk's `cost` (LiteLLM's field) says the same.
            let overHTTP = await EvalRunner(
                plan: plan, target: HTTPEvalTarget(baseURL: h.gatewayURL, key: Harness.master, client: h.client),
                clock: upstream.clock
            ).run()
            #expect(overHTTP.summaries.first?.answered == 6)
            #expect(abs((overHTTP.summaries.first?.totalCostUSD ?? 0) - cost) < 1e-11)
        }
    }

    /// A streamed answer's usage chunk carries its cost, as LiteLLM's do, when the client asks for usage.
    @Test func streamedUsageChunkCarriesTheCost() async throws {
        try await withGateway { h, _ in
            let model = try #require(EvalUpstream.models["alpha"])
            let reply = try await h.send(
                "/v1/chat/completions",
                json:
                    #"{"model":"alpha","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Question 1"}]}"#
            )
            let chunks = ssePayloads(reply.text).compactMap { try? JSONParser.parse($0) }
            let usage = try #require(chunks.last { $0["usage"]?.objectValue != nil }?["usage"])
            let cost = Double(model.inputTokens) * model.inputPrice + Double(model.outputTokens) * model.outputPrice
            #expect(abs((usage["cost"]?.doubleValue ?? 0) - cost) < 1e-15)
            #expect(usage["prompt_tokens"]?.intValue == model.inputTokens)
        }
    }

    @Test func aSpentBudgetStopsTheRun() async throws {
        try await withGateway { h, upstream in
            let model = try #require(EvalUpstream.models["alpha"])
            let perCell = Double(model.inputTokens) * model.inputPrice + Double(model.outputTokens) * model.outputPrice
            let budget = perCell * 2.5
            let key = try await h.newKey(#"{"max_budget": \#(budget)}"#)
            let target = HTTPEvalTarget(baseURL: h.gatewayURL, key: key, client: h.client)
            let plan = EvalPlan(models: ["alpha"], items: Self.items, parameters: ["max_tokens": .int(5)], concurrency: 1)
            let report = await EvalRunner(plan: plan, target: target, clock: upstream.clock).run()
            #expect(report.status == .budgetExhausted)
            let answered = report.cells.filter { $0.outcome == .answered }
            let refused = report.cells.filter { $0.outcome == .refused }
            #expect(answered.count + refused.count == 6)
            #expect(!refused.isEmpty && report.summaries.first?.refused == refused.count)
            // Refused cells never reached the model, and spend never passed the budget by more
            // than the one request in flight.
            #expect(upstream.seen.withLock { $0 }.count == answered.count)
            let spent = try await h.store.spendLogs(SpendQuery(limit: 1000)).filter { $0.evalRunID == plan.runID }
                .reduce(0) { $0 + $1.spend }
            #expect(spent <= budget + perCell + 1e-12)
            #expect(abs(spent - answered.reduce(0) { $0 + $1.costUSD }) < 1e-11)
        }
    }

    @Test func runsOverTheHTTPAPIAreChargedToTheirKey() async throws {
        try await withGateway { h, upstream in
            let dataset = Self.items.prefix(3).map { item in
                JSONValue.object(["id": .string(item.id), "messages": .array(item.messages), "expected": item.expected ?? .null])
            }
            let body = JSONValue.object([
                "models": .array(["alpha", "gamma"]), "dataset": .array(dataset), "scorers": .array(["exact"]),
                "concurrency": .int(2),
            ]).encodedString()
            let plain = try await h.newKey()
            let refused = try await h.send("/spanway/evaluations", json: body, key: plain)
            #expect(refused.status == 403 && refused.json?["error"]?["code"]?.stringValue == "evaluations_not_allowed")
            let bad = try await h.send("/spanway/evaluations", json: #"{"models":["alpha"],"dataset":[],"bogus":1}"#)
            #expect(bad.status == 400 && bad.json?["error"]?["param"]?.stringValue == "bogus")

            let allowed = try await h.newKey(#"{"allow_evaluations": true, "key_alias": "evaluator"}"#)
            let started = try await h.send("/spanway/evaluations", json: body, key: allowed)
            #expect(started.status == 202)
            let id = try #require(started.json?["id"]?.stringValue)
            var result: JSONValue?
            try await h.eventually("the run finishes") {
                let reply = try await h.send("/spanway/evaluations/\(id)", key: allowed)
                result = reply.json
                return reply.json?["status"]?.stringValue == "completed"
            }
            let cells = try #require(result?["cells"]?.arrayValue)
            #expect(cells.count == 6)
            #expect(cells.filter { $0["outcome"]?.stringValue == "answered" }.count == 4)
            #expect(result?["progress"]?["done"]?.intValue == 6)
            // Another key cannot see it; the master key can.
            #expect(try await h.send("/spanway/evaluations/\(id)", key: plain).status == 403)
            let other = try await h.newKey(#"{"allow_evaluations": true}"#)
            #expect(try await h.send("/spanway/evaluations/\(id)", key: other).status == 404)
            #expect(try await h.send("/spanway/evaluations/\(id)").status == 200)
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000)).filter { $0.evalRunID == id }
            #expect(rows.count == 6 && rows.allSatisfy { $0.keyAlias == "evaluator" })
        }
    }

    /// With the Langfuse sink on, each item's trace arrives with a span per model call and the
    /// scores as Langfuse scores on those calls.
    @Test func langfuseGetsTheScoresOnTheCalls() async throws {
        try await withGateway(settings: #"{success_callback: ["langfuse"]}"#, environment: CallbackSinkTests.env) { h, upstream in
            let plan = EvalPlan(models: ["alpha", "beta"], items: Array(Self.items.prefix(2)), scorers: [.exactMatch])
            let report = await runner(plan, h, upstream).run()
            func events() -> [JSONValue] {
                h.hooks.received(under: "/langfuse").flatMap { $0.json?["batch"]?.arrayValue ?? [] }
            }
            try await h.eventually("Langfuse got every score") {
                events().filter { $0["type"]?.stringValue == "score-create" }.count == report.cells.count
            }
            let bodies = events()
            for cell in report.cells {
                let score = try #require(
                    bodies.first {
                        $0["type"]?.stringValue == "score-create" && $0["body"]?["observationId"]?.stringValue == cell.spanID
                    }?[
                        "body"])
                #expect(score["traceId"]?.stringValue == cell.traceID)
                #expect(score["name"]?.stringValue == "exact")
                #expect(score["value"]?.doubleValue == cell.scores["exact"])
                #expect(
                    bodies.contains { $0["type"]?.stringValue == "span-create" && $0["body"]?["id"]?.stringValue == cell.spanID })
            }
            // The gateway's own generations land in the same traces.
            let traces = Set(report.cells.map(\.traceID))
            let generations = bodies.filter { $0["type"]?.stringValue == "generation-create" }
            #expect(Set(generations.compactMap { $0["body"]?["traceId"]?.stringValue }) == traces)
        }
    }

    /// numpy's default percentile (linear between closest ranks).
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        let position = p * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}

extension Opentelemetry_Proto_Trace_V1_Span {
    var hex: String { spanID.map { String(format: "%02x", $0) }.joined() }
    var parentHex: String { parentSpanID.map { String(format: "%02x", $0) }.joined() }
}

extension Opentelemetry_Proto_Common_V1_AnyValue {
    var numberValue: Double? {
        if case .doubleValue(let value)? = self.value { return value }
        return nil
    }
}
