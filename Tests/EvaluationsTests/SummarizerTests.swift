import Evaluations
import Testing

@Suite struct SummarizerTests {
    func cell(
        _ item: String, _ model: String, _ outcome: EvalCell.Outcome, sample: Int = 0, errorKind: String? = nil,
        latency: Double? = nil, ttft: Double? = nil, input: Int = 0, output: Int = 0, cost: Double = 0,
        scores: [String: Double] = [:]
    ) -> EvalCell {
        EvalCell(
            itemID: item, model: model, sample: sample, outcome: outcome, errorKind: errorKind, latencySeconds: latency,
            timeToFirstTokenSeconds: ttft, inputTokens: input, outputTokens: output, costUSD: cost, scores: scores,
            traceID: "trace-\(item)", spanID: "span-\(item)-\(model)")
    }

    func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance
    }

    var cells: [EvalCell] {
        [
            cell(
                "1", "fast", .answered, latency: 0.1, ttft: 0.05, input: 10, output: 5, cost: 0.001,
                scores: ["exact": 1, "judge": 1]),
            cell(
                "2", "fast", .answered, latency: 0.4, ttft: 0.09, input: 10, output: 5, cost: 0.001,
                scores: ["exact": 1, "judge": 0.5]),
            cell("3", "fast", .answered, latency: 0.3, input: 10, output: 5, cost: 0.001, scores: ["exact": 0]),
            cell("4", "fast", .answered, latency: 0.2, ttft: 0.07, input: 10, output: 5, cost: 0.001, scores: ["exact": 1]),
            cell("1", "slow", .answered, latency: 1.0, input: 20, output: 40, cost: 0.002, scores: ["exact": 0]),
            cell("2", "slow", .answered, latency: 3.0, input: 20, output: 40, cost: 0.002, scores: ["exact": 1]),
            cell("3", "slow", .failed, errorKind: "rate_limit_exceeded", latency: 0.01, input: 7, cost: 0.0005),
            cell("4", "slow", .refused),
            cell("1", "broken", .failed, latency: 0.5),
            cell("2", "broken", .failed, errorKind: "api_error", latency: 0.5),
            cell("3", "broken", .notRun),
            cell("1", "ghost", .answered, latency: 9, cost: 5, scores: ["exact": 1]),
        ]
    }

    @Test func oneSummaryPerModelInTheGivenOrder() {
        let summaries = EvalSummarizer.summaries(cells: cells, models: ["slow", "fast", "broken", "idle"], scorers: [])
        #expect(summaries.map(\.model) == ["slow", "fast", "broken", "idle"])
        let idle = summaries[3]
        #expect(idle.sent == 0 && idle.answered == 0 && idle.refused == 0 && idle.errors.isEmpty)
        #expect(idle.latencyP50 == nil && idle.costPerAnswerUSD == nil && idle.totalCostUSD == 0)
    }

    @Test func countsLatencyTokensAndCostOfAFastModel() throws {
        let fast = try #require(
            EvalSummarizer.summaries(cells: cells, models: ["fast"], scorers: ["exact", "judge"]).first)
        #expect(fast.sent == 4)
        #expect(fast.answered == 4)
        #expect(fast.errors.isEmpty)
        #expect(fast.refused == 0)
        // Latencies 0.1 0.2 0.3 0.4: p50 at h = 1.5, p95 at h = 2.85 → 0.3 + 0.85 · 0.1.
        #expect(close(fast.latencyP50, 0.25))
        #expect(close(fast.latencyP95, 0.385))
        // Times to first token 0.05 0.07 0.09 (one cell has none).
        #expect(close(fast.timeToFirstTokenP50, 0.07))
        #expect(fast.inputTokens == 40)
        #expect(fast.outputTokens == 20)
        #expect(close(fast.totalCostUSD, 0.004))
        #expect(close(fast.costPerAnswerUSD, 0.001))
    }

    @Test func scoresHaveMeansAndTIntervalsInScorerOrder() throws {
        let fast = try #require(
            EvalSummarizer.summaries(cells: cells, models: ["fast"], scorers: ["judge", "regex", "exact"]).first)
        #expect(fast.scores.map(\.scorer) == ["judge", "exact"])
        // judge: 1 and 0.5 → mean 0.75, s = √0.125, half-width t(1) · s / √2 = 12.706205 · 0.25.
        let judge = fast.scores[0]
        #expect(judge.count == 2)
        #expect(close(judge.mean, 0.75))
        // Both ends fall outside 0…1, where no score can be: the interval is clamped to 0…1.
        #expect(judge.low == 0 && judge.high == 1)
        // exact: 1 1 0 1 → mean 0.75, s² = (3 · 0.0625 + 0.5625) / 3 = 0.25, half-width t(3) · 0.5 / 2.
        let exact = fast.scores[1]
        #expect(exact.count == 4)
        #expect(close(exact.mean, 0.75))
        // 0.75 ∓ 0.7956: clamped to 0…1 as well.
        #expect(exact.low == 0 && exact.high == 1)
    }

    @Test func oneScoreHasNoInterval() throws {
        let only = [cell("1", "m", .answered, scores: ["exact": 1])]
        let summary = try #require(EvalSummarizer.summaries(cells: only, models: ["m"], scorers: ["exact"]).first)
        #expect(summary.scores == [ScoreSummary(scorer: "exact", count: 1, mean: 1, low: nil, high: nil)])
    }

    @Test func failuresCountAsSentAndCostButNotInLatency() throws {
        let slow = try #require(EvalSummarizer.summaries(cells: cells, models: ["slow"], scorers: ["exact"]).first)
        #expect(slow.sent == 3)
        #expect(slow.answered == 2)
        #expect(slow.errors == ["rate_limit_exceeded": 1])
        #expect(slow.refused == 1)
        // Answered latencies only: 1.0 and 3.0.
        #expect(close(slow.latencyP50, 2.0))
        #expect(close(slow.latencyP95, 2.9))
        #expect(slow.timeToFirstTokenP50 == nil)
        #expect(slow.inputTokens == 47)
        #expect(slow.outputTokens == 80)
        #expect(close(slow.totalCostUSD, 0.0045))
        #expect(close(slow.costPerAnswerUSD, 0.00225))
        #expect(slow.scores.map(\.count) == [2])
    }

    @Test func aModelThatNeverAnsweredHasNoCostPerAnswer() throws {
        let broken = try #require(EvalSummarizer.summaries(cells: cells, models: ["broken"], scorers: ["exact"]).first)
        #expect(broken.sent == 2)
        #expect(broken.answered == 0)
        #expect(broken.errors == ["unknown": 1, "api_error": 1])
        #expect(broken.refused == 0)
        #expect(broken.latencyP50 == nil)
        #expect(broken.costPerAnswerUSD == nil)
        #expect(broken.scores.isEmpty)
    }

    // MARK: disagreements

    var disputed: [EvalCell] {
        [
            cell("a", "fast", .answered, scores: ["exact": 1, "judge": 0.5]),
            cell("a", "slow", .answered, scores: ["exact": 0]),
            cell("b", "fast", .answered, scores: ["exact": 1]),
            cell("b", "slow", .answered, scores: ["exact": 1]),
            cell("c", "fast", .answered, scores: ["exact": 1]),
            cell("c", "slow", .failed),
            cell("d", "fast", .answered, sample: 0, scores: ["exact": 1]),
            cell("d", "fast", .answered, sample: 1, scores: ["exact": 0]),
            cell("d", "slow", .answered, scores: ["exact": 0]),
            cell("d", "broken", .answered, scores: ["exact": 1]),
            cell("e", "fast", .answered, scores: ["exact": 1]),
            cell("e", "slow", .answered, scores: ["exact": 0.25]),
            cell("e", "ghost", .answered, scores: ["exact": 0]),
        ]
    }

    @Test func disagreementsAreWidestFirstThenByItemID() {
        let found = EvalSummarizer.disagreements(cells: disputed, models: ["fast", "slow", "broken"])
        #expect(found.map(\.itemID) == ["d", "a", "e"])
        #expect(found[0] == Disagreement(itemID: "d", spread: 1, scores: ["fast": 0.5, "slow": 0, "broken": 1]))
        #expect(found[1] == Disagreement(itemID: "a", spread: 0.75, scores: ["fast": 0.75, "slow": 0]))
        // "ghost" is not one of the run's models, so its 0 does not widen item e.
        #expect(found[2] == Disagreement(itemID: "e", spread: 0.75, scores: ["fast": 1, "slow": 0.25]))
    }

    @Test func disagreementsRespectTheLimit() {
        let found = EvalSummarizer.disagreements(cells: disputed, models: ["fast", "slow", "broken"], limit: 2)
        #expect(found.map(\.itemID) == ["d", "a"])
        #expect(EvalSummarizer.disagreements(cells: disputed, models: ["fast", "slow"], limit: 0).isEmpty)
        #expect(EvalSummarizer.disagreements(cells: [], models: ["fast"]).isEmpty)
    }

    @Test func aModelsItemScoreAveragesItsCellsMeans() throws {
        // Cell means 1 (both scorers 1) and 0: the model's item score is 0.5, not 2/3.
        let uneven = [
            cell("f", "fast", .answered, sample: 0, scores: ["exact": 1, "judge": 1]),
            cell("f", "fast", .answered, sample: 1, scores: ["exact": 0]),
            cell("f", "slow", .answered, scores: ["exact": 1]),
        ]
        let found = try #require(EvalSummarizer.disagreements(cells: uneven, models: ["fast", "slow"]).first)
        #expect(found.scores == ["fast": 0.5, "slow": 1])
        #expect(found.spread == 0.5)
    }

    // MARK: pairwise

    @Test func pairwiseTallyKeepsPairsInModelOrder() {
        var tally = PairwiseTally(models: ["x", "y", "z"])
        let accepted = [
            tally.record(a: "y", b: "z", winner: .second),
            tally.record(a: "z", b: "x", winner: .tie),
            tally.record(a: "x", b: "y", winner: .first),
            tally.record(a: "y", b: "x", winner: .first),
            tally.record(a: "x", b: "y", winner: .first),
            tally.record(a: "x", b: "ghost", winner: .first),
            tally.record(a: "x", b: "x", winner: .first),
        ]
        #expect(accepted == [true, true, true, true, true, false, false])
        #expect(
            tally.records == [
                PairwiseRecord(a: "x", b: "y", winsA: 2, winsB: 1, ties: 0),
                PairwiseRecord(a: "x", b: "z", winsA: 0, winsB: 0, ties: 1),
                PairwiseRecord(a: "y", b: "z", winsA: 0, winsB: 1, ties: 0),
            ])
        #expect(tally.records[0].winRateA == 2.0 / 3)
        #expect(tally.records[1].winRateA == 0.5)
    }

    @Test func anEmptyTallyHasNoRecords() {
        #expect(PairwiseTally(models: ["x", "y"]).records.isEmpty)
    }

    @Test func pairwiseFromAListOfComparisons() {
        let records = EvalSummarizer.pairwise(
            [(a: "b", b: "a", winner: .second), (a: "a", b: "b", winner: .tie)], models: ["a", "b"])
        #expect(records == [PairwiseRecord(a: "a", b: "b", winsA: 1, winsB: 0, ties: 1)])
    }
}
