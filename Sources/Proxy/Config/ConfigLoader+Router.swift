import Telemetry
import Yams

/// The router's behaviour beyond its deployment list, from LiteLLM's keys: `num_retries` (with
/// LiteLLM's fallback to `litellm_settings` and its default of 2), timeouts, tag filtering,
/// `retry_after`; and a deployment's default parameters.
extension ConfigLoader {
    static let routerBehaviourKeys: Set<String> = [
        "timeout", "stream_timeout", "enable_tag_filtering", "tag_filtering_match_any", "retry_after",
    ]
    static let liteLLMRouterKeys: Set<String> = ["num_retries", "request_timeout"]

    /// `litellm_params` keys LiteLLM reads itself and never sends to a provider, which Spanway
    /// does not act on: warned about, not passed on as default parameters.
    static let unusedDeploymentKeys: Set<String> = [
        "custom_llm_provider", "organization", "max_retries", "max_parallel_requests", "timeout_by_service_tier",
        "tag_regex", "mock_response", "cooldown_time", "max_budget", "budget_duration", "itpm", "otpm", "region_name",
        "input_cost_per_second", "output_cost_per_second", "use_in_pass_through", "use_litellm_proxy",
        "merge_reasoning_content_in_choices", "model_info", "litellm_trace_id", "configurable_clientside_auth_params",
    ]

    /// Credentials LiteLLM turns into tokens itself (Entra ID, AWS roles and profiles): never
    /// passed on as body parameters, where they would reach the provider in the clear.
    static let unsupportedCredentialKeys: Set<String> = [
        "tenant_id", "client_id", "client_secret", "azure_ad_token", "azure_ad_token_provider", "azure_username",
        "azure_password", "azure_scope", "aws_role_name", "aws_profile_name", "aws_web_identity_token", "aws_session_name",
        "aws_sts_endpoint", "aws_external_id",
    ]

    /// Model parameters a default is expected to be (OpenAI's, and the provider-specific ones
    /// LiteLLM maps); any other key is still passed on, as LiteLLM does, but warned about: it is
    /// more often a typo than a parameter.
    static let modelParamKeys: Set<String> = [
        "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens", "stop", "seed", "n", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "response_format", "tools", "tool_choice",
        "parallel_tool_calls", "user", "reasoning_effort", "modalities", "audio", "prediction", "service_tier", "store",
        "verbosity", "web_search_options", "thinking", "safety_settings", "extra_headers", "extra_body", "stream_options",
        "functions", "function_call", "dimensions", "encoding_format", "num_ctx", "keep_alive", "repeat_penalty",
    ]

    /// Reads after `router_settings.num_retries`: a config without it takes
    /// `litellm_settings.num_retries`, else LiteLLM's default.
    func readRouterBehaviour(
        router: [String: Node], litellm: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader
    ) {
        if router["num_retries"] == nil {
            config.numRetries = RouterBehaviour.defaultNumRetries
            if let node = litellm["num_retries"], let retries = reader.int(node, at: "litellm_settings.num_retries") {
                if retries >= 0 {
                    config.numRetries = retries
                } else {
                    reader.error("litellm_settings.num_retries", "must not be negative")
                }
            }
        }
        var behaviour = RouterBehaviour()
        behaviour.requestTimeout = litellm["request_timeout"].flatMap {
            reader.timeout($0, at: "litellm_settings.request_timeout")
        }
        behaviour.timeout = router["timeout"].flatMap { reader.timeout($0, at: "router_settings.timeout") }
        behaviour.streamTimeout = router["stream_timeout"].flatMap { reader.timeout($0, at: "router_settings.stream_timeout") }
        if let node = router["enable_tag_filtering"] {
            behaviour.enableTagFiltering = reader.bool(node, at: "router_settings.enable_tag_filtering") ?? false
        }
        if let node = router["tag_filtering_match_any"] {
            behaviour.tagFilteringMatchAny = reader.bool(node, at: "router_settings.tag_filtering_match_any") ?? true
        }
        if let node = router["retry_after"], let seconds = reader.double(node, at: "router_settings.retry_after") {
            if seconds >= 0 && seconds <= 3600 {
                behaviour.retryAfter = .milliseconds(Int64((seconds * 1000).rounded()))
            } else {
                reader.error("router_settings.retry_after", "must be between 0 and 3600 seconds")
            }
        }
        config.routerBehaviour = behaviour
    }

    /// Every `litellm_params` key that is neither one the gateway reads (`known`) nor one LiteLLM
    /// keeps to itself: a default parameter for the provider (`temperature`, `max_tokens`,
    /// `extra_headers`, …), as LiteLLM passes them on.
    func readDefaultParams(
        _ params: [String: Node], known: Set<String>, at path: String, _ reader: inout YAMLReader
    ) -> JSONObject {
        var defaults = JSONObject()
        for key in params.keys.sorted() where !known.contains(key) {
            guard let node = params[key] else { continue }
            if Self.unusedDeploymentKeys.contains(key) {
                reader.warning("\(path).\(key)", "not supported by Spanway, ignored")
                continue
            }
            if Self.unsupportedCredentialKeys.contains(key) {
                reader.warning(
                    "\(path).\(key)", "a credential setting Spanway does not support (use api_key); never sent anywhere")
                continue
            }
            if key == "extra_headers" {
                guard let headers = reader.mapping(node, at: "\(path).extra_headers") else { continue }
                var object = JSONObject()
                for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
                    if let text = reader.string(value, at: "\(path).extra_headers.\(name)") { object[name] = .string(text) }
                }
                defaults[key] = .object(object)
                continue
            }
            if !Self.modelParamKeys.contains(key) {
                reader.warning(
                    "\(path).\(key)", "not a known model parameter; sent to the provider on every call, as LiteLLM does")
            }
            if let value = reader.json(node, at: "\(path).\(key)") { defaults[key] = value }
        }
        return defaults
    }
}
