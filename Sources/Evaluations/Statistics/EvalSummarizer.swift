/// Turns a run's cells into the results table's rows, its most disputed items and its pairwise
/// win rates. Pure functions of the cells, so a partial run summarises the same way as a whole one.
public enum EvalSummarizer {
    /// One summary per model, in `models`' order; cells of other models are ignored.
    ///
    /// Sent cells are the answered and the failed ones (refused and not-run cells never reached a
    /// model): tokens and cost are summed over them, since a failed call can still cost. Latency
    /// and time to first token are taken over answered cells only, so fast failures do not flatter
    /// a model. A score summary is given for each name in `scorers` that scored at least one of
    /// the model's cells, in that order, with its 95 % t-interval from two scores on.
    public static func summaries(cells: [EvalCell], models: [String], scorers: [String]) -> [ModelSummary] {
        var byModel: [String: [EvalCell]] = [:]
        for cell in cells { byModel[cell.model, default: []].append(cell) }
        return models.map { summary(model: $0, cells: byModel[$0] ?? [], scorers: scorers) }
    }

    private static func summary(model: String, cells: [EvalCell], scorers: [String]) -> ModelSummary {
        let answered = cells.filter { $0.outcome == .answered }
        let sent = cells.filter { $0.outcome == .answered || $0.outcome == .failed }
        var errors: [String: Int] = [:]
        for cell in cells where cell.outcome == .failed {
            errors[cell.errorKind ?? "unknown", default: 0] += 1
        }
        let latencies = answered.compactMap(\.latencySeconds)
        let firstTokens = answered.compactMap(\.timeToFirstTokenSeconds)
        let totalCost = sent.reduce(0) { $0 + $1.costUSD }
        var scores: [ScoreSummary] = []
        for scorer in scorers {
            let values = cells.compactMap { $0.scores[scorer] }
            guard let mean = Statistics.mean(values) else { continue }
            // Every score is in 0…1, so an interval past either end says nothing more than the end.
            let interval = Statistics.meanConfidenceInterval95(values)
            scores.append(
                ScoreSummary(
                    scorer: scorer, count: values.count, mean: mean, low: interval.map { max(0, $0.low) },
                    high: interval.map { min(1, $0.high) }))
        }
        return ModelSummary(
            model: model, sent: sent.count, answered: answered.count, errors: errors,
            refused: cells.count { $0.outcome == .refused },
            latencyP50: Statistics.percentile(latencies, 0.5), latencyP95: Statistics.percentile(latencies, 0.95),
            timeToFirstTokenP50: Statistics.percentile(firstTokens, 0.5),
            inputTokens: sent.reduce(0) { $0 + $1.inputTokens }, outputTokens: sent.reduce(0) { $0 + $1.outputTokens },
            totalCostUSD: totalCost, costPerAnswerUSD: answered.isEmpty ? nil : totalCost / Double(answered.count),
            scores: scores)
    }

    /// The items on which the models' scores differ most, at most `limit`, widest spread first
    /// (ties by item id).
    ///
    /// A model's score on an item is the mean, over its cells of that item that have any score,
    /// of each cell's mean over its scorers; the spread is the highest such score minus the
    /// lowest. Items that fewer than two models scored, or on which all agree, are left out.
    public static func disagreements(cells: [EvalCell], models: [String], limit: Int = 10) -> [Disagreement] {
        guard limit > 0 else { return [] }
        let known = Set(models)
        var perItem: [String: [String: [Double]]] = [:]
        for cell in cells where known.contains(cell.model) {
            guard let cellMean = Statistics.mean(Array(cell.scores.values)) else { continue }
            perItem[cell.itemID, default: [:]][cell.model, default: []].append(cellMean)
        }
        var found: [Disagreement] = []
        for (itemID, byModel) in perItem {
            var means: [String: Double] = [:]
            for (model, values) in byModel {
                if let mean = Statistics.mean(values) { means[model] = mean }
            }
            guard means.count >= 2, let high = means.values.max(), let low = means.values.min(), high - low > 0
            else { continue }
            found.append(Disagreement(itemID: itemID, spread: high - low, scores: means))
        }
        found.sort { $0.spread != $1.spread ? $0.spread > $1.spread : $0.itemID < $1.itemID }
        return Array(found.prefix(limit))
    }

    /// The pairwise records of a finished list of comparisons, `winner` relative to `(a, b)`.
    public static func pairwise(
        _ comparisons: [(a: String, b: String, winner: JudgeVerdict.Winner)], models: [String]
    ) -> [PairwiseRecord] {
        var tally = PairwiseTally(models: models)
        for comparison in comparisons { tally.record(a: comparison.a, b: comparison.b, winner: comparison.winner) }
        return tally.records
    }
}
