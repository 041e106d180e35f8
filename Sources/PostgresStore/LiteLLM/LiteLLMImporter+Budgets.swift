import Store
import Telemetry

extension LiteLLMImporter {
    /// `LiteLLM_BudgetTable`: every tier, linked or not, as a Spanway `Budget`; keys,
    /// organisations and end users keep their `budget_id` links to it. A tier is never charged.
    mutating func importBudgets() async throws {
        let table = LiteLLMTables.budgets
        for object in try await rows(table) {
            var row = LiteLLMRow(table: table, object: object)
            guard let id = row.string("budget_id") else {
                skip("budget tiers", table, missing: "budget_id")
                continue
            }
            budgets[id] = object
            let existing = try await store.fetch(Budget.self, id: id)
            var budget = existing ?? Budget(budgetID: id, createdAt: now)
            budget.limits = Limits(
                models: row.models("allowed_models"), maxBudget: row.double("max_budget"),
                budgetDuration: row.string("budget_duration"), budgetResetAt: row.timestamp("budget_reset_at"),
                tpmLimit: row.int("tpm_limit"), rpmLimit: row.int("rpm_limit"),
                maxParallelRequests: row.int("max_parallel_requests"))
            budget.softBudget = row.double("soft_budget")
            budget.tpdLimit = row.int("tpd_limit")
            budget.modelMaxBudget = row.object("model_max_budget").flatMap {
                $0.isEmpty ? nil : JSONValue.object($0).encodedString()
            }
            budget.createdAt = row.timestamp("created_at") ?? budget.createdAt
            budget.updatedAt = row.timestamp("updated_at") ?? budget.createdAt
            // Who made and last changed the tier: LiteLLM's audit columns, not limits.
            row.consume("created_by", "updated_by")
            finish(row)
            try await save(budget, existing: existing, kind: "budget tiers")
        }
    }
}
