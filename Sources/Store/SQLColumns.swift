/// SQL both stores share (SQLite and PostgreSQL spell these the same). Every name comes from these
/// closed lists, never from a caller's text; each store supplies its own date functions.
extension BudgetOwner {
    /// The owner's table and primary key.
    public var table: (name: String, key: String) {
        switch self {
        case .key: ("keys", "token")
        case .team: ("teams", "team_id")
        case .user: ("users", "user_id")
        case .organization: ("organizations", "organization_id")
        case .endUser: ("end_users", "user_id")
        case .budget: ("budgets", "budget_id")
        }
    }
}

extension SpendGrouping {
    /// The expression a spend report groups by; `day` is the store's own date expression.
    public func sqlExpression(day: String) -> String {
        switch self {
        case .team: "COALESCE(team_id, '')"
        case .key: "COALESCE(key_alias, key_hash, '')"
        case .user: "COALESCE(user_id, '')"
        case .model: "COALESCE(model_group, '')"
        case .provider: "COALESCE(provider, '')"
        case .day: day
        }
    }
}

extension AnalyticsDimension {
    /// The expression analytics group by; `day` and `hour` are the store's own date expressions.
    public func sqlExpression(day: String, hour: String) -> String {
        switch self {
        case .provider: "COALESCE(provider, '')"
        case .modelGroup: "COALESCE(model_group, '')"
        case .deployment: "COALESCE(deployment_id, '')"
        case .model: "COALESCE(model, '')"
        case .team: "COALESCE(team_id, '')"
        case .keyAlias: "COALESCE(key_alias, key_hash, '')"
        case .tag: "COALESCE(tag.value, '')"
        case .operation: "operation"
        case .day: day
        case .hour: hour
        }
    }
}
