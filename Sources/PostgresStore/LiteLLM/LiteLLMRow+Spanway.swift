import Store
import Telemetry

// LiteLLM's column values in the forms Spanway's records keep.
extension LiteLLMRow {
    /// Model names that mean "every model" in LiteLLM; Spanway says so with an empty list.
    static let everyModel: Set<String> = ["all-proxy-models", "all-team-models", "*"]

    /// The limit columns a key, team and user share, `spend` included.
    mutating func limits() -> Limits {
        Limits(
            models: models("models"), maxBudget: double("max_budget"), budgetDuration: string("budget_duration"),
            budgetResetAt: timestamp("budget_reset_at"), spend: double("spend") ?? 0, tpmLimit: int("tpm_limit"),
            rpmLimit: int("rpm_limit"), maxParallelRequests: int("max_parallel_requests"))
    }

    /// A model list; LiteLLM's "every model" names become Spanway's empty list. `no-default-models`
    /// (a user's own keys may call no model outside a team) has no Spanway equivalent: it is left
    /// out, and `droppedModelNames` says so.
    mutating func models(_ column: String) -> [String] {
        let names = strings(column)
        if names.contains(where: Self.everyModel.contains) { return [] }
        if names.contains("no-default-models") { droppedModelNames.insert("no-default-models") }
        return names.filter { $0 != "no-default-models" }
    }

    /// A `jsonb` object as JSON text; NULL is `{}`.
    mutating func jsonText(_ column: String) -> String {
        JSONValue.object(object(column) ?? JSONObject()).encodedString()
    }

    /// A `jsonb` object of strings (`aliases`); other values are left out.
    mutating func stringMap(_ column: String) -> [String: String] {
        var map: [String: String] = [:]
        for member in object(column)?.members ?? [] {
            if let text = member.value.stringValue { map[member.key] = text }
        }
        return map
    }

    /// `fields` (a record's `litellm_fields` JSON text) with each of `columns` set to this row's
    /// value, or removed when the row has none: LiteLLM's values win, the others stay.
    mutating func keeping(_ columns: [String], in fields: String) -> (fields: String, kept: [String]) {
        var object = (try? JSONParser.parse(Array(fields.utf8)))?.objectValue ?? JSONObject()
        var kept: [String] = []
        for column in columns {
            consume(column)
            if let value = self.object[column], !Self.isEmpty(value) {
                object[column] = value
                kept.append(column)
            } else {
                object[column] = nil
            }
        }
        return (JSONValue.object(object).encodedString(), kept)
    }
}
