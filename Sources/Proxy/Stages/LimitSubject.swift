import Store
import Telemetry

/// Something whose limits bind a request: its key, the key's team, the key's user. A request must
/// fit within every subject, so the tightest limit wins.
struct LimitSubject: Sendable {
    /// Unique across kinds (`key:<token>`, `team:<id>`, `user:<id>`).
    var id: String
    /// Named in refusals ("key", "team", "user", "organization", "proxy").
    var kind: String
    /// How a budget refusal names it: the record's id, or a key's alias and display name.
    var name: String
    var models: [String]
    var rpm: Int?
    var tpm: Int?
    var parallel: Int?
    var maxBudget: Double?
    var spend: Double
    /// Which budget period `spend` belongs to, growing with each new period (a record's next
    /// reset time, the proxy budget's period start; 0 for a budget that never resets): replicas
    /// that disagree on the period must not mix their figures.
    var budgetPeriod: Int64 = 0
    /// For a per-model subject (LiteLLM's `model_rpm_limit`, `model_tpm_limit`), the model group
    /// whose requests it counts; refusals name it.
    var model: String? = nil

    var hasRateLimits: Bool { rpm != nil || tpm != nil || parallel != nil }

    /// The kind of a team member's subject (LiteLLM's `team_member_rpm_limit` and
    /// `team_member_tpm_limit`), named `<team>:<user>`.
    static let teamMemberKind = "team_member"

    /// How LiteLLM's limiter names this subject in a rate-limit refusal (`Rate limit exceeded
    /// for <key>: <value>`), for the subjects it names that way: per-model and team-member ones.
    var descriptor: (key: String, value: String)? {
        if let model { return ("model_per_\(kind)", model) }
        if kind == Self.teamMemberKind { return (kind, name) }
        return nil
    }

    /// The id of a record's subject.
    static func id(_ owner: BudgetOwner, _ recordID: String) -> String { "\(owner.rawValue):\(recordID)" }
}

extension LimitedRecord {
    /// How refusals and metrics name this kind of record: "key", "team", "user", "organization".
    static var kind: String { owner.rawValue }

    var limitSubject: LimitSubject {
        LimitSubject(
            id: LimitSubject.id(Self.owner, recordID), kind: Self.kind, name: recordID, models: limits.models,
            rpm: limits.rpmLimit,
            tpm: limits.tpmLimit, parallel: limits.maxParallelRequests, maxBudget: limits.maxBudget, spend: limits.spend,
            budgetPeriod: limits.budgetResetAt.map { Int64($0) } ?? 0)
    }
}
