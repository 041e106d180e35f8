import GRDB

/// What binds the requests of a key, team, user or organisation, and the spend counted against
/// it. Every one of those records embeds one, stored as the same columns in each record's own
/// table (LiteLLM's names: https://docs.litellm.ai/docs/proxy/users).
public struct Limits: Sendable, Equatable, Codable, SnakeCaseColumns {
    /// Model groups allowed; empty means all.
    public var models: [String]
    /// USD per budget period; nil means no budget.
    public var maxBudget: Double?
    /// How long a budget period lasts (`30d`); nil means the budget never resets.
    public var budgetDuration: String?
    /// When `spend` next returns to 0 (seconds since the epoch), for records with a `budgetDuration`.
    public var budgetResetAt: Double?
    /// USD spent in the current period.
    public var spend: Double
    public var tpmLimit: Int?
    public var rpmLimit: Int?
    public var maxParallelRequests: Int?

    public init(
        models: [String] = [], maxBudget: Double? = nil, budgetDuration: String? = nil, budgetResetAt: Double? = nil,
        spend: Double = 0, tpmLimit: Int? = nil, rpmLimit: Int? = nil, maxParallelRequests: Int? = nil
    ) {
        self.models = models
        self.maxBudget = maxBudget
        self.budgetDuration = budgetDuration
        self.budgetResetAt = budgetResetAt
        self.spend = spend
        self.tpmLimit = tpmLimit
        self.rpmLimit = rpmLimit
        self.maxParallelRequests = maxParallelRequests
    }

    /// The length of a budget period in seconds; nil when the budget never resets.
    public var budgetPeriod: Double? {
        budgetDuration.flatMap(DurationText.seconds)
    }
}
