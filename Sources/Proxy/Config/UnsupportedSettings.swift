/// LiteLLM settings Spanway knows but does not implement (LiteLLM 1.108.7's names). Those whose
/// absence would change what is charged or who may do what are refused (`refused`, reported by
/// `ConfigLoader.refuseUnsupported`); the others are ignored with a warning that names them. Keys
/// are YAML paths with list indices dropped (`model_list[].model_info.access_groups`); unknown
/// `litellm_params` are default parameters for the provider instead. A key an implementation adds
/// to its section's known set is no longer reported here.
enum UnsupportedSettings {
    /// Errors when switched on.
    static let refused: Set<String> = [
        "guardrails", "litellm_settings.guardrails", "litellm_settings.cache", "litellm_settings.cache_params",
        "router_settings.cache_responses", "general_settings.coordination_redis",
    ]

    /// Warnings: key → what to know (empty when the key's name says it all).
    static let ignored: [String: String] = {
        var table: [String: String] = [:]
        let plain: [String: [String]] = [
            "": [
                "files_settings", "assistant_settings", "finetune_settings", "mcp_servers", "search_tools",
                "vector_store_registry", "prompts", "pass_through_endpoints",
            ],
            "general_settings": [
                "store_prompts_in_spend_logs", "litellm_key_header_name", "user_header_mappings",
                "enforce_fallback_model_access", "expose_fallback_errors_to_caller", "include_call_id_in_error_body",
                "allow_requests_on_db_unavailable", "token_rate_limit_type", "fail_closed_rate_limit_enforcement",
                "encryption_algorithm", "proxy_batch_write_at", "database_connection_pool_limit",
                "database_connection_timeout", "disable_master_key_return", "max_parallel_requests",
                "global_max_parallel_requests", "custom_auth", "allowed_routes", "public_routes", "admin_only_routes",
                "ui_access_mode", "infer_model_from_keys", "disable_reset_budget",
                "disable_retry_on_max_parallel_request_limit_error",
                "use_redis_transaction_buffer", "allow_user_auth", "forward_openai_org_id", "forward_client_headers_to_llm_api",
                "pass_through_endpoints", "service_account_settings", "enable_jwt_auth", "litellm_jwtauth",
                "maximum_spend_logs_retention_period", "maximum_spend_logs_retention_interval",
            ],
            "litellm_settings": [
                "num_retries", "request_timeout", "max_budget", "budget_duration", "budget_exceeded_status_code",
                "include_cost_in_streaming_usage", "redact_user_api_key_info",
                "max_end_user_budget_id", "upperbound_key_generate_params", "prometheus_latency_buckets",
                "custom_prometheus_metadata_labels", "prometheus_deployment_and_latency_caller_identity",
                "set_verbose", "telemetry", "enable_preview_features", "modify_params", "max_internal_user_budget",
                "internal_user_budget_duration", "default_internal_user_params", "default_key_generate_params",
                "key_generation_settings", "disable_end_user_cost_tracking", "return_response_headers", "ssl_verify",
                "force_ipv4", "service_callback", "enable_json_schema_validation", "callback_settings",
                "default_max_internal_user_budget", "redact_messages_in_exceptions", "disable_add_transform_inline_image_block",
                "langfuse_default_tags", "s3_callback_params", "public_teams", "enable_loadbalancing_on_batch_endpoints",
            ],
            "router_settings": [
                "routing_strategy_args", "allowed_fails_policy", "disable_cooldowns", "timeout", "stream_timeout",
                "max_fallbacks", "enable_tag_filtering", "provider_budget_config", "routing_groups",
                "model_group_retry_policy", "retry_after", "default_litellm_params", "default_max_parallel_requests",
                "optional_pre_call_checks", "redis_failure_mode", "cache_kwargs", "client_ttl", "set_verbose",
                "debug_level", "polling_interval", "tag_filtering_match_any",
            ],
            "model_list[].model_info": [
                "base_model", "mode", "max_input_tokens", "max_output_tokens", "allowed_fails",
                "allowed_fails_policy", "enable_tag_filtering", "health_check_model", "disable_background_health_check",
                "team_id", "input_cost_per_token", "output_cost_per_token", "supports_vision",
                "supports_function_calling", "description", "tier",
            ],
        ]
        for (section, keys) in plain {
            for key in keys { table[section.isEmpty ? key : "\(section).\(key)"] = "" }
        }
        table["general_settings.max_parallel_requests"] = "set max_parallel_requests on keys or teams instead"
        table["general_settings.custom_auth"] = "Spanway authenticates with its own keys"
        table["general_settings.store_prompts_in_spend_logs"] =
            "use spanway_settings.capture_content to send prompts to the trace sinks"
        table["general_settings.litellm_key_header_name"] = "clients must send the key as a bearer token or x-api-key"
        table["litellm_settings.ssl_verify"] = "upstream TLS is always verified"
        table["litellm_settings.set_verbose"] = "use the LOG_LEVEL environment variable"
        table["router_settings.set_verbose"] = "use the LOG_LEVEL environment variable"
        return table
    }()

    /// `model_list[3].litellm_params.x` → `model_list[].litellm_params.x`.
    static func generic(_ path: String) -> String {
        var result = ""
        var skipping = false
        for character in path {
            if character == "[" {
                skipping = true
                result.append("[")
            } else if character == "]" {
                skipping = false
                result.append("]")
            } else if !skipping {
                result.append(character)
            }
        }
        return result
    }
}
