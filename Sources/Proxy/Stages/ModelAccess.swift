/// LiteLLM's model allow-lists (1.108.7, proxy/auth/auth_checks.py `check_model_access_helper`),
/// the one rule that decides both whether a request may use a model and what `/v1/models` lists.
/// A key's, team's, user's or organisation's `models` allows:
/// - everything when empty, or holding `*`, `all-proxy-models` (or, for a team, `all-team-models`);
/// - a model group it names, or the name the caller asked for (an alias);
/// - every group whose deployments name one of its entries in `model_info.access_groups`;
/// - names matching a wildcard entry (`openai/*`).
/// A key's `all-team-models` stands for its team's list (unrestricted without a team).
enum ModelAccess {
    static let allProxyModels = "all-proxy-models"
    static let allTeamModels = "all-team-models"

    static func allows(
        _ models: [String], group: String, requested: String, accessGroups: [String: Set<String>]
    ) -> Bool {
        if models.isEmpty { return true }
        for entry in models {
            if entry == "*" || entry == allProxyModels || entry == allTeamModels { return true }
            if entry == group || entry == requested { return true }
            if accessGroups[entry]?.contains(group) == true { return true }
            if entry.contains("*"),
                ModelRouter.capture(requested, in: entry) != nil || ModelRouter.capture(group, in: entry) != nil
            {
                return true
            }
        }
        return false
    }

    /// Whether `models` grants the access group `name` itself (listed by `/v1/models` with
    /// `include_model_access_groups`).
    static func grants(_ models: [String], accessGroup name: String) -> Bool {
        models.isEmpty || models.contains { $0 == name || $0 == "*" || $0 == allProxyModels || $0 == allTeamModels }
    }

    /// A key's list with `all-team-models` replaced by its team's (LiteLLM's
    /// `_resolve_key_models_for_auth_check`).
    static func keyModels(_ key: [String], team: [String]?) -> [String] {
        guard key.contains(allTeamModels) else { return key }
        return team ?? []
    }
}
