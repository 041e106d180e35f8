import Store
import Telemetry

extension LiteLLMImporter {
    /// `LiteLLM_EndUserTable` (LiteLLM's customers): their spend, models, blocking and the budget
    /// tier their limits live in.
    mutating func importEndUsers() async throws {
        let table = LiteLLMTables.endUsers
        for object in try await rows(table) {
            var row = LiteLLMRow(table: table, object: object)
            guard let id = row.string("user_id") else {
                skip("end users", table, missing: "user_id")
                continue
            }
            let existing = try await store.fetch(EndUser.self, id: id)
            // LiteLLM's row has no creation time: a first import stamps the import's.
            var endUser = existing ?? EndUser(userID: id, createdAt: now)
            endUser.alias = row.string("alias")
            endUser.blocked = row.bool("blocked") ?? false
            endUser.allowedModelRegion = row.string("allowed_model_region")
            endUser.defaultModel = row.string("default_model")
            endUser.budgetID = row.string("budget_id")
            if let budgetID = endUser.budgetID, budgets[budgetID] == nil {
                report.dangling(table, "budget_id")
            }
            var limits = endUser.limits
            limits.models = row.models("models")
            limits.spend = row.double("spend") ?? 0
            endUser.limits = limits
            finish(row)
            try await save(endUser, existing: existing, kind: "end users")
        }
    }
}
