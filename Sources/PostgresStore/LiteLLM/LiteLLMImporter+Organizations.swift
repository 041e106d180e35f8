import Store
import Telemetry

extension LiteLLMImporter {
    /// `LiteLLM_OrganizationTable`: an organisation's limits live in the budget tier its
    /// (required) `budget_id` names, imported as a `Budget` and linked; its spend is on its own row.
    mutating func importOrganizations() async throws {
        let table = LiteLLMTables.organizations
        for object in try await rows(table) {
            var row = LiteLLMRow(table: table, object: object)
            guard let id = row.string("organization_id") else {
                skip("organizations", table, missing: "organization_id")
                continue
            }
            let existing = try await store.fetch(Organization.self, id: id)
            var organization = existing ?? Organization(organizationID: id, organizationAlias: id, createdAt: now)
            organization.organizationAlias = row.string("organization_alias") ?? id
            organization.metadata = row.jsonText("metadata")
            organization.createdAt = row.timestamp("created_at") ?? organization.createdAt
            // The limits live in the tier, which binds the organisation through its link.
            organization.budgetID = row.string("budget_id")
            if let budgetID = organization.budgetID, budgets[budgetID] == nil {
                report.dangling(table, "budget_id")
            }
            let limits = Limits(models: row.models("models"), spend: row.double("spend") ?? 0)
            organization.limits = limits
            // The organisation's other LiteLLM fields (soft budget, per-model budgets) are its tier's.
            finish(row)
            try await save(organization, existing: existing, kind: "organizations")
        }
    }

}
