import GRDB

/// A budget tier (LiteLLM's `LiteLLM_BudgetTable`, made by `/budget/new`): limits that bind
/// every key, organisation and end user linked to it by `budget_id`, where the record leaves
/// the same limit unset. A tier is never charged: spend is counted on the records that link to
/// it, so `limits.spend` stays 0, and changing a tier changes what binds all of them at once.
public struct Budget: LimitedRecord {
    public static let databaseTableName = "budgets"
    public static let owner = BudgetOwner.budget

    public var budgetID: String
    /// `models` in `limits` is LiteLLM's `allowed_models`; `max_budget`, `budget_duration`,
    /// `budget_reset_at`, `tpm_limit`, `rpm_limit` and `max_parallel_requests` are the tier's.
    public var limits = Limits()
    /// Crossing this raises an alert in LiteLLM; it refuses nothing.
    public var softBudget: Double?
    /// Tokens per day, charged by LiteLLM's batch submissions; kept and shown, not enforced.
    public var tpdLimit: Int?
    /// LiteLLM's per-model budgets (`{"gpt-4o": {"max_budget": …}}`) as JSON text; kept and shown.
    public var modelMaxBudget: String?
    public var metadata = "{}"
    public var createdAt: Double
    public var updatedAt: Double

    public var recordID: String { budgetID }

    public init(budgetID: String, createdAt: Double) {
        self.budgetID = budgetID
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// Every stored property but `limits`, which `LimitedRecord` reads and writes itself.
    enum CodingKeys: CodingKey {
        case budgetID, softBudget, tpdLimit, modelMaxBudget, metadata, createdAt, updatedAt
    }
}

extension Limits {
    /// These limits with every one left unset taken from the linked tier, as LiteLLM reads a
    /// key's, organisation's or end user's budget from its `budget_id`. The period goes with the
    /// budget: a record without its own `budget_duration` resets on the tier's.
    public func bound(by tier: Budget?) -> Limits {
        guard let tier else { return self }
        var limits = self
        if limits.maxBudget == nil { limits.maxBudget = tier.limits.maxBudget }
        if limits.budgetDuration == nil {
            limits.budgetDuration = tier.limits.budgetDuration
            if limits.budgetResetAt == nil { limits.budgetResetAt = tier.limits.budgetResetAt }
        }
        if limits.tpmLimit == nil { limits.tpmLimit = tier.limits.tpmLimit }
        if limits.rpmLimit == nil { limits.rpmLimit = tier.limits.rpmLimit }
        if limits.maxParallelRequests == nil { limits.maxParallelRequests = tier.limits.maxParallelRequests }
        return limits
    }
}
