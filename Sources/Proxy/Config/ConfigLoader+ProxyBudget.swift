import Store
import Yams

extension ConfigLoader {
    static let proxyBudgetKeys: Set<String> = [
        "max_budget", "budget_duration", "budget_exceeded_status_code", "max_end_user_budget_id",
    ]

    /// `litellm_settings.max_budget` (USD, 0 is off as in LiteLLM), `budget_duration` (`30d`) and
    /// `budget_exceeded_status_code` (LiteLLM's 422 by default; 429 restores the older answer).
    func readProxyBudget(_ litellm: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader) {
        if let node = litellm["max_budget"], let budget = reader.double(node, at: "litellm_settings.max_budget") {
            if budget.isFinite && budget >= 0 {
                config.proxyMaxBudget = budget > 0 ? budget : nil
            } else {
                reader.error("litellm_settings.max_budget", "must be a number of USD, 0 or more")
            }
        }
        if let node = litellm["budget_duration"], let text = reader.string(node, at: "litellm_settings.budget_duration") {
            config.proxyBudgetDuration = DurationText.seconds(text)
            if config.proxyBudgetDuration == nil {
                reader.error("litellm_settings.budget_duration", "'\(text)' is not a duration like 30d, 12h or 1mo")
            }
        }
        if let node = litellm["max_end_user_budget_id"],
            let id = reader.string(node, at: "litellm_settings.max_end_user_budget_id")
        {
            config.maxEndUserBudgetID = id.isEmpty ? nil : id
        }
        if let node = litellm["budget_exceeded_status_code"],
            let status = reader.int(node, at: "litellm_settings.budget_exceeded_status_code")
        {
            if (400..<500).contains(status) {
                config.budgetExceededStatus = status
            } else {
                reader.error("litellm_settings.budget_exceeded_status_code", "must be a 4xx status")
            }
        }
    }
}
