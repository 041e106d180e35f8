import Store
import Telemetry

/// LiteLLM's per-model limits on a caller's records, read once per request: `model_rpm_limit`
/// and `model_tpm_limit` (`{"<model>": <int>}`) on its key, team and organisation, and the key's
/// `model_max_budget`. LiteLLM keeps the rate limits in each record's `metadata` (as keys
/// imported from its database carry them); Spanway's management API keeps them with the other
/// LiteLLM fields. Both are read, `metadata` first. A value that is not a whole number of at
/// least zero is ignored.
///
/// A record's JSON is parsed only when its text names one of these fields, and at most once.
struct ModelLimits: Sendable {
    /// One record's per-model rate limits, by model name.
    struct Rates: Sendable {
        var rpm: [String: Int]?
        var tpm: [String: Int]?
    }

    /// The key's own limits (its `metadata`, its fields, then `model_max_budget[m].rpm_limit`).
    var key = Rates()
    var team = Rates()
    var organization = Rates()
    /// The key's `model_max_budget`, as written.
    var keyBudgets: JSONObject?

    static let rpmField = "model_rpm_limit"
    static let tpmField = "model_tpm_limit"
    static let budgetField = "model_max_budget"

    init(_ principal: Principal) {
        guard let key = principal.key else { return }
        let metadata = Self.object(key.metadata, naming: [Self.rpmField, Self.tpmField])
        let fields = Self.object(key.litellmFields, naming: [Self.rpmField, Self.tpmField, Self.budgetField])
        keyBudgets = fields?[Self.budgetField]?.objectValue.flatMap { $0.isEmpty ? nil : $0 }
        self.key = Self.rates(metadata, fields)
        if let budgets = keyBudgets {
            if self.key.rpm == nil { self.key.rpm = Self.limits(budgets, field: "rpm_limit") }
            if self.key.tpm == nil { self.key.tpm = Self.limits(budgets, field: "tpm_limit") }
        }
        if let team = principal.team {
            self.team = Self.rates(
                Self.object(team.metadata, naming: [Self.rpmField, Self.tpmField]),
                Self.object(team.litellmFields, naming: [Self.rpmField, Self.tpmField]))
        }
        if let organization = principal.organization {
            self.organization = Self.rates(
                Self.object(organization.metadata, naming: [Self.rpmField, Self.tpmField]),
                Self.object(organization.litellmFields, naming: [Self.rpmField, Self.tpmField]))
        }
    }

    /// The subjects whose per-model rate limits bind a request for `requested` (as the caller
    /// named it), routed to `group`, as LiteLLM's limiter builds them: a limit is looked up by
    /// the model as requested, then by its group, and counted per (key, group), (team, group)
    /// and (organisation, group). A key without limits of its own takes its team's, counted for
    /// the key; the team's own count applies unless the key has its own limit for the model.
    func subjects(_ principal: Principal, requested: String, group: String) -> [LimitSubject] {
        guard let record = principal.key else { return [] }
        func limit(_ limits: [String: Int]?) -> Int? { limits.flatMap { $0[requested] ?? $0[group] } }
        var subjects: [LimitSubject] = []
        func add(_ owner: BudgetOwner, _ id: String, name: String, rpm: Int?, tpm: Int?) {
            guard rpm != nil || tpm != nil else { return }
            subjects.append(
                LimitSubject(
                    id: LimitSubject.id(owner, id) + "@model:" + group, kind: owner.rawValue, name: name, models: [],
                    rpm: rpm, tpm: tpm, parallel: nil, maxBudget: nil, spend: 0, model: group))
        }
        let name = BudgetGuard.keyDescriptor(alias: record.keyAlias, keyName: record.keyName)
        add(.key, record.token, name: name, rpm: limit(key.rpm ?? team.rpm), tpm: limit(key.tpm ?? team.tpm))
        if let teamID = principal.team?.teamID {
            add(
                .team, teamID, name: teamID, rpm: limit(key.rpm) == nil ? limit(team.rpm) : nil,
                tpm: limit(key.tpm) == nil ? limit(team.tpm) : nil)
        }
        if let organizationID = principal.organization?.organizationID {
            add(.organization, organizationID, name: organizationID, rpm: limit(organization.rpm), tpm: limit(organization.tpm))
        }
        return subjects
    }

    /// The JSON object in `text`, parsed only when the text names one of `fields`.
    static func object(_ text: String, naming fields: [String]) -> JSONValue? {
        guard fields.contains(where: { text.contains($0) }), let value = try? JSONParser.parse(text),
            value.objectValue != nil
        else { return nil }
        return value
    }

    private static func rates(_ metadata: JSONValue?, _ fields: JSONValue?) -> Rates {
        Rates(
            rpm: limits(metadata?[rpmField]) ?? limits(fields?[rpmField]),
            tpm: limits(metadata?[tpmField]) ?? limits(fields?[tpmField]))
    }

    /// `{"<model>": <int>}`, its invalid values left out; nil when none is left.
    static func limits(_ value: JSONValue?) -> [String: Int]? {
        guard let object = value?.objectValue else { return nil }
        var limits: [String: Int] = [:]
        for (model, limit) in object.members {
            if let limit = limit.intValue, limit >= 0 { limits[model] = limit }
        }
        return limits.isEmpty ? nil : limits
    }

    /// `model_max_budget`'s `rpm_limit` or `tpm_limit` per model.
    private static func limits(_ budgets: JSONObject, field: String) -> [String: Int]? {
        limits(.object(JSONObject(budgets.members.compactMap { model, budget in budget[field].map { (model, $0) } })))
    }
}
