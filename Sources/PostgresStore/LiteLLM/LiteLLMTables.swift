/// The LiteLLM tables an import reads (litellm 1.108.7, `schema.prisma`).
enum LiteLLMTables {
    static let keys = "LiteLLM_VerificationToken"
    static let teams = "LiteLLM_TeamTable"
    static let users = "LiteLLM_UserTable"
    static let organizations = "LiteLLM_OrganizationTable"
    static let budgets = "LiteLLM_BudgetTable"
    static let endUsers = "LiteLLM_EndUserTable"
    static let teamMemberships = "LiteLLM_TeamMembership"
    static let organizationMemberships = "LiteLLM_OrganizationMembership"
    static let dailyUserSpend = "LiteLLM_DailyUserSpend"
    static let dailyTeamSpend = "LiteLLM_DailyTeamSpend"
    /// Daily tables that slice the same requests by other owners; Spanway's rollups have no such dimension.
    static let otherDailySpend = [
        "LiteLLM_DailyOrganizationSpend", "LiteLLM_DailyEndUserSpend", "LiteLLM_DailyTagSpend", "LiteLLM_DailyAgentSpend",
    ]
    /// Tables with data Spanway has no records for, and why, for the report.
    static let notImported = [
        ("LiteLLM_OrganizationMembership", "Spanway's organisations have no members; their teams do"),
        ("LiteLLM_TagTable", "Spanway keeps no per-tag budgets"),
        ("LiteLLM_ModelAccessGroupBudgetTable", "Spanway keeps no per-access-group budgets"),
        ("LiteLLM_ProjectTable", "Spanway has no projects"),
        ("LiteLLM_ObjectPermissionTable", "MCP, vector store and agent permissions have no Spanway meaning"),
        ("LiteLLM_CredentialsTable", "credentials are encrypted with LITELLM_SALT_KEY"),
    ]
    static let spendLogs = "LiteLLM_SpendLogs"
    static let proxyModels = "LiteLLM_ProxyModelTable"
}
