import Telemetry

/// What a run does: the items, the models, how requests are sent and how answers are scored.
public struct EvalPlan: Sendable {
    public var runID: String
    /// Model groups, as clients name them.
    public var models: [String]
    public var items: [EvalItem]
    /// Request fields for every item (`temperature`, `max_tokens`, …); an item's own win.
    public var parameters: JSONObject
    /// Requests in flight at once, judge calls included.
    public var concurrency: Int
    /// Samples per item and model.
    public var repeats: Int
    /// Stream the answers, which measures time to first token.
    public var stream: Bool
    public var scorers: [Scorer]
    public var judge: JudgeSettings?
    /// Sent as each request's `seed` (unless the parameters set one), and orders the answers a
    /// pairwise judge sees, so a rerun asks the same questions.
    public var seed: UInt64?

    public init(
        runID: String = EvalPlan.newRunID(), models: [String], items: [EvalItem], parameters: JSONObject = [:],
        concurrency: Int = 8, repeats: Int = 1, stream: Bool = false, scorers: [Scorer] = [],
        judge: JudgeSettings? = nil, seed: UInt64? = nil
    ) {
        self.runID = runID
        self.models = models
        self.items = items
        self.parameters = parameters
        self.concurrency = concurrency
        self.repeats = repeats
        self.stream = stream
        self.scorers = scorers
        self.judge = judge
        self.seed = seed
    }

    /// `eval-` and 16 random hex digits.
    public static func newRunID() -> String {
        "eval-" + SpanID.random().hex
    }

    /// Requests the run will send to the models (judge calls not counted).
    public var cellCount: Int { items.count * models.count * repeats }

    /// Scorer names as the report lists them: the judge's last.
    public var scorerNames: [String] {
        scorers.map(\.name) + (judge.map { _ in [JudgeSettings.scorerName] } ?? [])
    }
}

/// `--judge`: a model group that grades every answer against a rubric and, with `pairwise`,
/// compares every two models' answers to the same item.
public struct JudgeSettings: Sendable {
    public static let scorerName = "judge"

    public var model: String
    public var rubric: JudgeRubric
    public var pairwise: Bool

    public init(model: String, rubric: JudgeRubric = JudgeRubric(), pairwise: Bool = false) {
        self.model = model
        self.rubric = rubric
        self.pairwise = pairwise
    }
}
