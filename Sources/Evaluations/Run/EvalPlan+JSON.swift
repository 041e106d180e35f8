import Telemetry

/// How big a run over the HTTP API may be: it runs inside the gateway, so it is bounded.
public struct EvalBounds: Sendable {
    public var maxItems: Int
    public var maxModels: Int
    public var maxRepeats: Int
    public var maxCells: Int
    public var maxConcurrency: Int

    public init(maxItems: Int = 1000, maxModels: Int = 10, maxRepeats: Int = 10, maxCells: Int = 5000, maxConcurrency: Int = 16) {
        self.maxItems = maxItems
        self.maxModels = maxModels
        self.maxRepeats = maxRepeats
        self.maxCells = maxCells
        self.maxConcurrency = maxConcurrency
    }
}

extension EvalPlan {
    /// A plan from the body of `POST /spanway/evaluations`:
    /// `{"models": [...], "dataset": [items], "scorers": ["exact", "regex:^4$"], "judge": {"model",
    /// "rubric", "pairwise"}, "parameters": {...}, "concurrency", "repeat", "stream", "seed", "limit"}`.
    /// Errors name the field. Scorers that would read a file are refused: the server reads none.
    public init(json body: JSONValue, bounds: EvalBounds) throws(EvalDatasetError) {
        guard let object = body.objectValue else { throw EvalDatasetError("the body must be a JSON object") }
        let known: Set<String> = [
            "models", "dataset", "scorers", "judge", "parameters", "concurrency", "repeat", "stream", "seed", "limit",
        ]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw EvalDatasetError(field: unknown, "is not a field of an evaluation")
        }
        guard let models = object["models"]?.arrayValue, !models.isEmpty,
            models.allSatisfy({ !($0.stringValue ?? "").isEmpty })
        else { throw EvalDatasetError(field: "models", "must be a non-empty array of model names") }
        let names = models.compactMap(\.stringValue)
        guard Set(names).count == names.count else { throw EvalDatasetError(field: "models", "names a model twice") }
        guard names.count <= bounds.maxModels else {
            throw EvalDatasetError(field: "models", "at most \(bounds.maxModels) models per run")
        }
        let limit = try Self.count(object["limit"], "limit", in: 1...Int.max)
        guard let dataset = object["dataset"]?.arrayValue else {
            throw EvalDatasetError(field: "dataset", "must be an array of items")
        }
        let items = try EvalDataset.parse(array: dataset, limit: limit)
        guard items.count <= bounds.maxItems else {
            throw EvalDatasetError(field: "dataset", "at most \(bounds.maxItems) items per run")
        }
        let repeats = try Self.count(object["repeat"], "repeat", in: 1...bounds.maxRepeats) ?? 1
        guard items.count * names.count * repeats <= bounds.maxCells else {
            throw EvalDatasetError(field: "dataset", "items × models × repeat must be at most \(bounds.maxCells)")
        }
        var scorers: [Scorer] = []
        var specs: [JSONValue] = []
        if let value = object["scorers"], !value.isNull {
            guard let list = value.arrayValue else {
                throw EvalDatasetError(field: "scorers", "must be an array of scorer names")
            }
            specs = list
        }
        for (index, spec) in specs.enumerated() {
            guard let text = spec.stringValue else { throw EvalDatasetError(field: "scorers[\(index)]", "must be a string") }
            // Swift's regex engine has no time limit: a short pattern bounds how badly a caller's
            // pattern can backtrack inside the gateway.
            guard text.utf8.count <= 256 else {
                throw EvalDatasetError(field: "scorers[\(index)]", "must be at most 256 characters")
            }
            do {
                scorers.append(
                    try Scorer.parse(text) { _ in throw EvalDatasetError("the gateway reads no files: give the schema inline") })
            } catch {
                throw EvalDatasetError(field: "scorers[\(index)]", error.description)
            }
        }
        var parameters: JSONObject = [:]
        if let given = object["parameters"] {
            guard let given = given.objectValue else { throw EvalDatasetError(field: "parameters", "must be an object") }
            for key in given.keys where EvalDataset.reservedParameters.contains(key) {
                throw EvalDatasetError(field: "parameters.\(key)", "is set by the evaluation")
            }
            parameters = given
        }
        var stream = false
        if let value = object["stream"], !value.isNull {
            guard let flag = value.boolValue else { throw EvalDatasetError(field: "stream", "must be a boolean") }
            stream = flag
        }
        var seed: UInt64?
        if let value = object["seed"], !value.isNull {
            guard let number = value.intValue, number >= 0 else {
                throw EvalDatasetError(field: "seed", "must be a non-negative integer")
            }
            seed = UInt64(number)
        }
        self.init(
            models: names, items: items, parameters: parameters,
            concurrency: try Self.count(object["concurrency"], "concurrency", in: 1...bounds.maxConcurrency) ?? 4,
            repeats: repeats, stream: stream, scorers: scorers, judge: try Self.judge(object["judge"]), seed: seed)
    }

    private static func count(_ value: JSONValue?, _ field: String, in range: ClosedRange<Int>) throws(EvalDatasetError)
        -> Int?
    {
        guard let value, !value.isNull else { return nil }
        guard let number = value.intValue, range.contains(number) else {
            let bound =
                range.upperBound == Int.max ? "at least \(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw EvalDatasetError(field: field, "must be an integer, \(bound)")
        }
        return number
    }

    private static func judge(_ value: JSONValue?) throws(EvalDatasetError) -> JudgeSettings? {
        guard let value, !value.isNull else { return nil }
        if let model = value.stringValue, !model.isEmpty { return JudgeSettings(model: model) }
        guard let object = value.objectValue, let model = object["model"]?.stringValue, !model.isEmpty else {
            throw EvalDatasetError(field: "judge", "must be a model name or {\"model\", \"rubric\", \"pairwise\"}")
        }
        if let unknown = object.keys.first(where: { !["model", "rubric", "pairwise"].contains($0) }) {
            throw EvalDatasetError(field: "judge.\(unknown)", "is not a field of the judge")
        }
        var settings = JudgeSettings(model: model)
        if let rubric = object["rubric"], !rubric.isNull {
            guard let text = rubric.stringValue, !text.isEmpty else {
                throw EvalDatasetError(field: "judge.rubric", "must be a non-empty string")
            }
            settings.rubric = JudgeRubric(text: text)
        }
        if let pairwise = object["pairwise"], !pairwise.isNull {
            guard let flag = pairwise.boolValue else { throw EvalDatasetError(field: "judge.pairwise", "must be a boolean") }
            settings.pairwise = flag
        }
        return settings
    }
}
