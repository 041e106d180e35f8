import Telemetry

/// Everything one evaluation run produced: every cell (item × model × sample) with its trace,
/// and the per-model summaries computed from them. The JSON report, the CSV, the terminal table,
/// the HTML report and `GET /spanway/evaluations/{id}` are all views of this one value.
public struct EvalReport: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case running
        case completed
        /// Stopped by Ctrl-C or a cancelled task: what finished is kept.
        case interrupted
        /// Stopped sending because the caller's budget ran out.
        case budgetExhausted = "budget_exhausted"
    }

    public var runID: String
    public var status: Status
    /// Unix seconds.
    public var startedAt: Double
    public var finishedAt: Double?
    public var models: [String]
    /// Scorer names, in the order given (`exact`, `contains`, `regex`, `json`, `json_schema`,
    /// `numeric`, `judge`).
    public var scorers: [String]
    /// The model group that judged, when one did.
    public var judge: String?
    public var itemCount: Int
    public var repeats: Int
    public var cells: [EvalCell]
    public var summaries: [ModelSummary]
    /// Win rates of every pair of models, when the judge compared their answers.
    public var pairwise: [PairwiseRecord]
    /// The items whose scores differ most between models, most first.
    public var disagreements: [Disagreement]

    public init(
        runID: String, status: Status, startedAt: Double, finishedAt: Double? = nil, models: [String],
        scorers: [String], judge: String? = nil, itemCount: Int, repeats: Int, cells: [EvalCell] = [],
        summaries: [ModelSummary] = [], pairwise: [PairwiseRecord] = [], disagreements: [Disagreement] = []
    ) {
        self.runID = runID
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.models = models
        self.scorers = scorers
        self.judge = judge
        self.itemCount = itemCount
        self.repeats = repeats
        self.cells = cells
        self.summaries = summaries
        self.pairwise = pairwise
        self.disagreements = disagreements
    }
}

/// One request of the run: one sample of one item sent to one model, and what came back.
public struct EvalCell: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// Answered (2xx).
        case answered
        /// The gateway or the provider answered with an error.
        case failed
        /// Never sent: the caller's budget ran out before it.
        case refused
        /// Never sent: the run was interrupted before it.
        case notRun = "not_run"
    }

    public var itemID: String
    public var model: String
    /// 0-based sample index (`--repeat`).
    public var sample: Int
    public var outcome: Outcome
    /// The HTTP status the gateway answered with (nil when never sent).
    public var statusCode: Int?
    /// The OpenAI error `type` or `code` of a failure (`rate_limit_exceeded`, `api_error`, …).
    public var errorKind: String?
    public var errorMessage: String?
    /// The assistant's text.
    public var answer: String?
    /// From sending the request to the last byte of the answer, in seconds.
    public var latencySeconds: Double?
    /// From sending the request to the first streamed chunk, in seconds (`--stream` only).
    public var timeToFirstTokenSeconds: Double?
    public var inputTokens: Int
    public var outputTokens: Int
    /// The gateway's `x-spanway-response-cost` (USD).
    public var costUSD: Double
    /// Scorer name → score in [0, 1]. A scorer that could not score (judge failed) is absent.
    public var scores: [String: Double]
    /// Why the judge gave its score.
    public var judgeReason: String?
    /// The trace of this cell's item, in hex.
    public var traceID: String
    /// The cell's own span (the model call as the evaluation saw it), in hex; the gateway's
    /// request span is its child.
    public var spanID: String

    public init(
        itemID: String, model: String, sample: Int, outcome: Outcome, statusCode: Int? = nil, errorKind: String? = nil,
        errorMessage: String? = nil, answer: String? = nil, latencySeconds: Double? = nil,
        timeToFirstTokenSeconds: Double? = nil, inputTokens: Int = 0, outputTokens: Int = 0, costUSD: Double = 0,
        scores: [String: Double] = [:], judgeReason: String? = nil, traceID: String, spanID: String
    ) {
        self.itemID = itemID
        self.model = model
        self.sample = sample
        self.outcome = outcome
        self.statusCode = statusCode
        self.errorKind = errorKind
        self.errorMessage = errorMessage
        self.answer = answer
        self.latencySeconds = latencySeconds
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costUSD = costUSD
        self.scores = scores
        self.judgeReason = judgeReason
        self.traceID = traceID
        self.spanID = spanID
    }
}

/// One model's row of the results table.
public struct ModelSummary: Sendable, Equatable {
    public var model: String
    /// Cells sent (answered + failed).
    public var sent: Int
    public var answered: Int
    /// Failed cells by error kind.
    public var errors: [String: Int]
    /// Cells never sent because the budget ran out.
    public var refused: Int
    public var latencyP50: Double?
    public var latencyP95: Double?
    public var timeToFirstTokenP50: Double?
    public var inputTokens: Int
    public var outputTokens: Int
    public var totalCostUSD: Double
    /// Total cost over answered cells.
    public var costPerAnswerUSD: Double?
    public var scores: [ScoreSummary]

    public init(
        model: String, sent: Int, answered: Int, errors: [String: Int], refused: Int, latencyP50: Double?,
        latencyP95: Double?, timeToFirstTokenP50: Double?, inputTokens: Int, outputTokens: Int, totalCostUSD: Double,
        costPerAnswerUSD: Double?, scores: [ScoreSummary]
    ) {
        self.model = model
        self.sent = sent
        self.answered = answered
        self.errors = errors
        self.refused = refused
        self.latencyP50 = latencyP50
        self.latencyP95 = latencyP95
        self.timeToFirstTokenP50 = timeToFirstTokenP50
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.totalCostUSD = totalCostUSD
        self.costPerAnswerUSD = costPerAnswerUSD
        self.scores = scores
    }
}

/// A scorer's mean over a model's scored cells, with its 95 % confidence interval.
public struct ScoreSummary: Sendable, Equatable {
    public var scorer: String
    public var count: Int
    public var mean: Double
    /// Nil below two scored cells.
    public var low: Double?
    public var high: Double?

    public init(scorer: String, count: Int, mean: Double, low: Double?, high: Double?) {
        self.scorer = scorer
        self.count = count
        self.mean = mean
        self.low = low
        self.high = high
    }
}

/// How often model `a`'s answer was judged better than model `b`'s on the same item and sample.
public struct PairwiseRecord: Sendable, Equatable {
    public var a: String
    public var b: String
    public var winsA: Int
    public var winsB: Int
    public var ties: Int

    public init(a: String, b: String, winsA: Int, winsB: Int, ties: Int) {
        self.a = a
        self.b = b
        self.winsA = winsA
        self.winsB = winsB
        self.ties = ties
    }

    /// `a`'s win rate, a tie counting half; nil when no comparison was judged.
    public var winRateA: Double? {
        let total = winsA + winsB + ties
        return total == 0 ? nil : (Double(winsA) + Double(ties) / 2) / Double(total)
    }
}

/// An item on which the models' mean scores spread widest.
public struct Disagreement: Sendable, Equatable {
    public var itemID: String
    /// Highest minus lowest of the models' mean scores on this item (all scorers averaged).
    public var spread: Double
    /// Model → its mean score on this item.
    public var scores: [String: Double]

    public init(itemID: String, spread: Double, scores: [String: Double]) {
        self.itemID = itemID
        self.spread = spread
        self.scores = scores
    }
}
