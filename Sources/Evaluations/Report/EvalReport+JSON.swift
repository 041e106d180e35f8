import Telemetry

extension EvalReport {
    /// The whole report as JSON with snake_case keys: the file `spanway eval` writes and the body of
    /// `GET /spanway/evaluations/{id}`. Absent values are `null` rather than missing, so every cell
    /// (and every summary) has the same keys and a reader can index columns without checks.
    /// Dictionaries are written in a stable order: models and scorers in the run's order, error
    /// kinds by name.
    public var json: JSONValue {
        var object = JSONObject()
        object["run_id"] = .string(runID)
        object["status"] = .string(status.rawValue)
        object["started_at"] = .double(startedAt)
        object["finished_at"] = finishedAt.map(JSONValue.double) ?? .null
        object["models"] = .array(models.map(JSONValue.string))
        object["scorers"] = .array(scorers.map(JSONValue.string))
        object["judge"] = judge.map(JSONValue.string) ?? .null
        object["item_count"] = .int(itemCount)
        object["repeats"] = .int(repeats)
        object["summaries"] = .array(summaries.map(\.json))
        object["pairwise"] = .array(pairwise.map(\.json))
        object["disagreements"] = .array(disagreements.map { $0.json(models: models) })
        object["cells"] = .array(cells.map { $0.json(scorers: scorers) })
        return .object(object)
    }
}

extension ModelSummary {
    var json: JSONValue {
        var object = JSONObject()
        object["model"] = .string(model)
        object["sent"] = .int(sent)
        object["answered"] = .int(answered)
        object["errors"] = .object(JSONObject(errors.sorted { $0.key < $1.key }.map { (key: $0.key, value: .int($0.value)) }))
        object["refused"] = .int(refused)
        object["latency_p50_seconds"] = latencyP50.map(JSONValue.double) ?? .null
        object["latency_p95_seconds"] = latencyP95.map(JSONValue.double) ?? .null
        object["ttft_p50_seconds"] = timeToFirstTokenP50.map(JSONValue.double) ?? .null
        object["input_tokens"] = .int(inputTokens)
        object["output_tokens"] = .int(outputTokens)
        object["total_cost_usd"] = .double(totalCostUSD)
        object["cost_per_answer_usd"] = costPerAnswerUSD.map(JSONValue.double) ?? .null
        object["scores"] = .array(scores.map(\.json))
        return .object(object)
    }
}

extension ScoreSummary {
    var json: JSONValue {
        .object([
            "scorer": .string(scorer), "count": .int(count), "mean": .double(mean),
            "low": low.map(JSONValue.double) ?? .null, "high": high.map(JSONValue.double) ?? .null,
        ])
    }
}

extension PairwiseRecord {
    var json: JSONValue {
        .object([
            "a": .string(a), "b": .string(b), "wins_a": .int(winsA), "wins_b": .int(winsB), "ties": .int(ties),
            "win_rate_a": winRateA.map(JSONValue.double) ?? .null,
        ])
    }
}

extension Disagreement {
    func json(models: [String]) -> JSONValue {
        .object([
            "item_id": .string(itemID), "spread": .double(spread),
            "scores": .object(JSONObject(ReportOrder.keyed(scores, by: models).map { (key: $0.key, value: .double($0.value)) })),
        ])
    }
}

extension EvalCell {
    func json(scorers: [String]) -> JSONValue {
        var object = JSONObject()
        object["item_id"] = .string(itemID)
        object["model"] = .string(model)
        object["sample"] = .int(sample)
        object["outcome"] = .string(outcome.rawValue)
        object["status_code"] = statusCode.map(JSONValue.int) ?? .null
        object["error_kind"] = errorKind.map(JSONValue.string) ?? .null
        object["error_message"] = errorMessage.map(JSONValue.string) ?? .null
        object["answer"] = answer.map(JSONValue.string) ?? .null
        object["latency_seconds"] = latencySeconds.map(JSONValue.double) ?? .null
        object["ttft_seconds"] = timeToFirstTokenSeconds.map(JSONValue.double) ?? .null
        object["input_tokens"] = .int(inputTokens)
        object["output_tokens"] = .int(outputTokens)
        object["cost_usd"] = .double(costUSD)
        object["scores"] = .object(
            JSONObject(ReportOrder.keyed(scores, by: scorers).map { (key: $0.key, value: .double($0.value)) }))
        object["judge_reason"] = judgeReason.map(JSONValue.string) ?? .null
        object["trace_id"] = .string(traceID)
        object["span_id"] = .string(spanID)
        return .object(object)
    }
}
