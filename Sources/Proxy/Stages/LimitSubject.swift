import Store
import Telemetry

/// Something whose limits bind a request: its key, the key's team, the key's user. A request must
/// fit within every subject, so the tightest limit wins.
struct LimitSubject: Sendable {
    /// Unique across kinds (`key:<token>`, `team:<id>`, `user:<id>`).
    var id: String
    /// Named in refusals ("key", "team", "user").
    var kind: String
    var models: [String]
    var rpm: Int?
    var tpm: Int?
    var parallel: Int?
    var maxBudget: Double?
    var spend: Double

    var hasRateLimits: Bool { rpm != nil || tpm != nil || parallel != nil }
}

/// The limit fields keys, teams and users share, under LiteLLM's names.
protocol LimitedRecord {
    static var kind: String { get }
    var limitID: String { get }
    var models: [String] { get set }
    var maxBudget: Double? { get set }
    var budgetDuration: String? { get set }
    var budgetResetAt: Double? { get set }
    var spend: Double { get }
    var tpmLimit: Int? { get set }
    var rpmLimit: Int? { get set }
    var maxParallelRequests: Int? { get set }
    var metadata: String { get set }
}

extension LimitedRecord {
    static var limitFields: Set<String> {
        ["models", "max_budget", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests", "metadata"]
    }

    var limits: LimitSubject {
        LimitSubject(
            id: "\(Self.kind):\(limitID)", kind: Self.kind, models: models, rpm: rpmLimit, tpm: tpmLimit,
            parallel: maxParallelRequests, maxBudget: maxBudget, spend: spend)
    }

    /// Applies one already-checked limit field; false when `field` is not one of them.
    mutating func applyLimitField(_ field: String, _ value: JSONValue, now: Double) -> Bool {
        switch field {
        case "models": models = value.arrayValue?.compactMap(\.stringValue) ?? []
        case "max_budget": maxBudget = value.doubleValue
        case "budget_duration":
            budgetDuration = value.stringValue
            budgetResetAt = value.stringValue.flatMap(DurationText.seconds).map { now + $0 }
        case "tpm_limit": tpmLimit = value.intValue
        case "rpm_limit": rpmLimit = value.intValue
        case "max_parallel_requests": maxParallelRequests = value.intValue
        case "metadata": metadata = value.objectValue.map { JSONValue.object($0).encodedString() } ?? "{}"
        default: return false
        }
        return true
    }

    /// The limit fields in answers.
    var limitJSON: JSONObject {
        [
            "models": .array(models.map(JSONValue.string)), "max_budget": maxBudget.map(JSONValue.double) ?? .null,
            "budget_duration": budgetDuration.map(JSONValue.string) ?? .null,
            "budget_reset_at": AdminInput.date(budgetResetAt), "spend": .double(spend),
            "tpm_limit": tpmLimit.map(JSONValue.int) ?? .null, "rpm_limit": rpmLimit.map(JSONValue.int) ?? .null,
            "max_parallel_requests": maxParallelRequests.map(JSONValue.int) ?? .null,
            "metadata": (try? JSONParser.parse(metadata)) ?? .object([:]),
        ]
    }
}

extension VirtualKey: LimitedRecord {
    static var kind: String { "key" }
    var limitID: String { token }
}

extension Team: LimitedRecord {
    static var kind: String { "team" }
    var limitID: String { teamID }
}

extension User: LimitedRecord {
    static var kind: String { "user" }
    var limitID: String { userID }
}

extension Organization: LimitedRecord {
    static var kind: String { "organization" }
    var limitID: String { organizationID }
}

extension JSONObject {
    /// These members added to (or replacing) ours.
    func merging(_ other: JSONObject) -> JSONObject {
        var result = self
        for member in other.members { result[member.key] = member.value }
        return result
    }
}
