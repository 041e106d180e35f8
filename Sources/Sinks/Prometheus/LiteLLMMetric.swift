/// The LiteLLM proxy's Prometheus series that Spanway also exposes (with
/// `spanway_settings.prometheus_names: [spanway, litellm]`), with LiteLLM's names, types and label
/// names, so that dashboards and alerts written for LiteLLM work unchanged. The label sets are
/// LiteLLM 1.108.7's (`litellm/types/integrations/prometheus.py`, MIT licence,
/// https://github.com/BerriAI/litellm).
enum LiteLLMMetric: Int, CaseIterable, Sendable {
    case proxyTotalRequests
    case proxyFailedRequests
    case requestTotalLatency
    case llmAPILatency
    case llmAPITimeToFirstToken
    case overheadLatency
    case inFlightRequests
    case spend
    case requests
    case totalTokens
    case inputTokens
    case outputTokens
    case llmAPIFailedRequests
    case deploymentState
    case deploymentSuccessResponses
    case deploymentTotalRequests
    case deploymentFailureResponses
    case deploymentCooledDown
    case deploymentSuccessfulFallbacks
    case deploymentFailedFallbacks
    case remainingTeamBudget
    case teamMaxBudget
    case remainingAPIKeyBudget
    case apiKeyMaxBudget

    enum Kind: Sendable { case counter, gauge, histogram }

    /// The name LiteLLM registers; a counter's samples add `_total` to it.
    var name: String {
        switch self {
        case .proxyTotalRequests: "litellm_proxy_total_requests_metric"
        case .proxyFailedRequests: "litellm_proxy_failed_requests_metric"
        case .requestTotalLatency: "litellm_request_total_latency_metric"
        case .llmAPILatency: "litellm_llm_api_latency_metric"
        case .llmAPITimeToFirstToken: "litellm_llm_api_time_to_first_token_metric"
        case .overheadLatency: "litellm_overhead_latency_metric"
        case .inFlightRequests: "litellm_in_flight_requests"
        case .spend: "litellm_spend_metric"
        case .requests: "litellm_requests_metric"
        case .totalTokens: "litellm_total_tokens_metric"
        case .inputTokens: "litellm_input_tokens_metric"
        case .outputTokens: "litellm_output_tokens_metric"
        case .llmAPIFailedRequests: "litellm_llm_api_failed_requests_metric"
        case .deploymentState: "litellm_deployment_state"
        case .deploymentSuccessResponses: "litellm_deployment_success_responses"
        case .deploymentTotalRequests: "litellm_deployment_total_requests"
        case .deploymentFailureResponses: "litellm_deployment_failure_responses"
        case .deploymentCooledDown: "litellm_deployment_cooled_down"
        case .deploymentSuccessfulFallbacks: "litellm_deployment_successful_fallbacks"
        case .deploymentFailedFallbacks: "litellm_deployment_failed_fallbacks"
        case .remainingTeamBudget: "litellm_remaining_team_budget_metric"
        case .teamMaxBudget: "litellm_team_max_budget_metric"
        case .remainingAPIKeyBudget: "litellm_remaining_api_key_budget_metric"
        case .apiKeyMaxBudget: "litellm_api_key_max_budget_metric"
        }
    }

    var kind: Kind {
        switch self {
        case .requestTotalLatency, .llmAPILatency, .llmAPITimeToFirstToken, .overheadLatency: .histogram
        case .inFlightRequests, .deploymentState, .remainingTeamBudget, .teamMaxBudget, .remainingAPIKeyBudget,
            .apiKeyMaxBudget:
            .gauge
        default: .counter
        }
    }

    var help: String {
        switch self {
        case .proxyTotalRequests: "Requests made to the gateway, answered or not, by status code"
        case .proxyFailedRequests: "Requests the client did not get a successful answer to, by exception"
        case .requestTotalLatency: "Whole-request latency in seconds, as the client saw it"
        case .llmAPILatency: "Latency in seconds of the upstream call that answered"
        case .llmAPITimeToFirstToken: "Time to the first streamed token in seconds"
        case .overheadLatency: "Time in seconds the gateway itself added to a request"
        case .inFlightRequests: "Requests the gateway has taken and not yet finished"
        case .spend: "Spend in US dollars"
        case .requests: "Answered LLM requests, by key, team, user and model"
        case .totalTokens: "Input plus output tokens"
        case .inputTokens: "Input tokens"
        case .outputTokens: "Output tokens"
        case .llmAPIFailedRequests: "Failed upstream calls (deprecated in LiteLLM: use litellm_proxy_failed_requests_metric)"
        case .deploymentState: "Deployment state: 0 healthy, 1 its last call failed, 2 cooling down"
        case .deploymentSuccessResponses: "Successful upstream calls per deployment"
        case .deploymentTotalRequests: "Upstream calls per deployment, successful or not"
        case .deploymentFailureResponses: "Failed upstream calls per deployment, by exception"
        case .deploymentCooledDown: "Times a deployment was taken out of routing for its cooldown"
        case .deploymentSuccessfulFallbacks: "Requests a fallback model group answered after the requested group failed"
        case .deploymentFailedFallbacks: "Fallback model groups that failed too"
        case .remainingTeamBudget: "Budget left for the team in US dollars (+Inf without a budget)"
        case .teamMaxBudget: "The team's max_budget in US dollars"
        case .remainingAPIKeyBudget: "Budget left for the key in US dollars (+Inf without a budget)"
        case .apiKeyMaxBudget: "The key's max_budget in US dollars"
        }
    }

    // LiteLLM's label groups.
    private static let key = ["hashed_api_key", "api_key_alias"]
    private static let team = ["team", "team_alias"]
    private static let org = ["org_id", "org_alias"]
    private static let deployment = ["litellm_model_name", "model_id", "api_base", "api_provider"]
    private static let client = ["client_ip", "user_agent"]
    private static let exception = ["exception_status", "exception_class"]
    private static let provider = ["model_id", "api_provider"]

    /// The label names, in LiteLLM's order.
    var labelNames: [String] {
        switch self {
        case .proxyTotalRequests:
            ["end_user"] + Self.key + ["requested_model"] + Self.team + ["user", "user_email", "status_code", "route"]
                + Self.client + Self.provider + Self.org
        case .proxyFailedRequests:
            ["end_user"] + Self.key + ["requested_model"] + Self.team + ["user", "user_email"] + Self.exception + ["route"]
                + Self.client + Self.provider + Self.org
        case .requestTotalLatency, .llmAPILatency, .llmAPITimeToFirstToken:
            ["model_group", "end_user"] + Self.key + ["requested_model"] + Self.team + ["user", "model"] + Self.provider
                + ["service_tier"] + Self.org
        case .overheadLatency:
            ["model_group", "api_provider", "api_base", "litellm_model_name"] + Self.key + ["model_id"]
        case .inFlightRequests: []
        case .spend:
            ["end_user"] + Self.key + ["model"] + Self.team + ["user", "user_email"] + Self.client + ["requested_model"]
                + Self.provider + ["service_tier"] + Self.org
        case .requests:
            ["end_user"] + Self.key + ["model"] + Self.team + ["user", "user_email"] + Self.client + ["requested_model"]
                + Self.provider + Self.org
        case .totalTokens, .inputTokens, .outputTokens:
            ["end_user"] + Self.key + ["model"] + Self.team + ["user", "user_email", "requested_model"] + Self.provider
                + Self.org
        case .llmAPIFailedRequests: ["end_user"] + Self.key + ["model"] + Self.team + ["user", "model_id"]
        case .deploymentState: Self.deployment
        case .deploymentSuccessResponses, .deploymentTotalRequests:
            ["model_group", "requested_model"] + Self.deployment + Self.key + Self.team + Self.client
        case .deploymentFailureResponses:
            ["model_group", "requested_model"] + Self.deployment + Self.key + Self.team + Self.client + Self.exception
        case .deploymentCooledDown: Self.deployment + ["exception_status"]
        case .deploymentSuccessfulFallbacks, .deploymentFailedFallbacks:
            ["requested_model", "fallback_model"] + Self.key + Self.team + Self.exception + ["model_id"]
        case .remainingTeamBudget, .teamMaxBudget: Self.team
        case .remainingAPIKeyBudget, .apiKeyMaxBudget: Self.key
        }
    }

    /// LiteLLM's latency buckets (seconds), used by each of its histograms.
    static let latencyBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 420, 600,
    ]
}
