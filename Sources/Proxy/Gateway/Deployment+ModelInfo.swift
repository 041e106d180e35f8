import Foundation
import Telemetry

extension Deployment {
    /// The context window: `model_info.max_input_tokens`, else the price table's (of `base_model`).
    var maxInputTokens: Int? { config.maxInputTokens ?? price?.maxInputTokens }

    /// The output limit: `model_info.max_output_tokens`, else the price table's.
    var maxOutputTokens: Int? { config.maxOutputTokens ?? price?.maxOutputTokens }

    /// `model_info.mode`, else the price table's; LiteLLM takes a deployment with neither for chat.
    var mode: String { knownMode ?? "chat" }

    /// Whether this deployment serves `operation`: its provider can (natively or through chat),
    /// and its mode (`model_info.mode`, else the price table's), when one is known, is one of
    /// the operation's. A mode LiteLLM does not know (a newer one) restricts nothing.
    func serves(_ operation: OpenAIRequest.Operation) -> Bool {
        guard adapter.serving(operation) != .unsupported else { return false }
        guard let mode = knownMode, ConfigLoader.knownModes.contains(mode) else { return true }
        return operation.modes.contains(mode)
    }

    /// How this deployment serves `operation`: as its provider does, but legacy completions go
    /// natively only to a completion model (`mode: completion`, like gpt-3.5-turbo-instruct):
    /// chat models refuse `/completions` (OpenAI's, Groq's), so they get it through chat.
    func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        let serving = adapter.serving(operation)
        if operation == .textCompletion && serving == .native && knownMode != "completion" { return .viaChat }
        return serving
    }

    /// `model_info.mode`, else the price table's; nil when neither says.
    var knownMode: String? { config.mode ?? price?.mode }

    /// `model_info` as LiteLLM's `/model/info` shows it: the deployment's own keys, then what the
    /// price table knows of its model (`base_model`'s row when set).
    var modelInfo: JSONObject {
        var info: JSONObject = ["id": .string(config.id), "db_model": .bool(isStored), "mode": .string(mode)]
        if !config.accessGroups.isEmpty { info["access_groups"] = .array(config.accessGroups.map(JSONValue.string)) }
        info["base_model"] = config.baseModel.map(JSONValue.string) ?? .null
        info["max_input_tokens"] = maxInputTokens.map(JSONValue.int) ?? .null
        info["max_output_tokens"] = maxOutputTokens.map(JSONValue.int) ?? .null
        info["max_tokens"] = maxOutputTokens.map(JSONValue.int) ?? .null
        info["input_cost_per_token"] = price.map { .double($0.inputCostPerToken) } ?? .null
        info["output_cost_per_token"] = price.map { .double($0.outputCostPerToken) } ?? .null
        info["cache_read_input_token_cost"] = price?.cacheReadInputTokenCost.map(JSONValue.double) ?? .null
        info["cache_creation_input_token_cost"] = price?.cacheCreationInputTokenCost.map(JSONValue.double) ?? .null
        info["output_cost_per_reasoning_token"] = price?.outputCostPerReasoningToken.map(JSONValue.double) ?? .null
        info["litellm_provider"] = .string(price?.litellmProvider ?? config.provider)
        for flag in Self.reportedCapabilities {
            info["supports_\(flag)"] = .bool(price?.supports.contains(flag) ?? false)
        }
        return info
    }

    /// The `supports_*` flags reported for every deployment (false when the table does not say).
    static let reportedCapabilities = [
        "function_calling", "parallel_function_calling", "vision", "response_schema", "tool_choice", "reasoning",
        "prompt_caching", "system_messages", "audio_input", "audio_output", "pdf_input", "web_search",
    ]
}

extension DeploymentConfig {
    /// `litellm_params` as `/model/info` and `/health` show them: no key or other credential,
    /// and `api_base` without a user, password or query string (where credentials hide).
    var publicParams: JSONObject {
        var params: JSONObject = ["model": .string("\(provider)/\(model)")]
        if let apiBase { params["api_base"] = .string(Self.withoutCredentials(apiBase)) }
        if let apiVersion { params["api_version"] = .string(apiVersion) }
        if let timeout { params["timeout"] = .double(Self.seconds(timeout)) }
        if let streamTimeout { params["stream_timeout"] = .double(Self.seconds(streamTimeout)) }
        if let rpm { params["rpm"] = .int(rpm) }
        if let tpm { params["tpm"] = .int(tpm) }
        if let weight { params["weight"] = .double(weight) }
        if let order { params["order"] = .int(order) }
        if !tags.isEmpty { params["tags"] = .array(tags.map(JSONValue.string)) }
        if let inputCostPerToken { params["input_cost_per_token"] = .double(inputCostPerToken) }
        if let outputCostPerToken { params["output_cost_per_token"] = .double(outputCostPerToken) }
        for (name, value) in providerParams.sorted(by: { $0.key < $1.key }) where !Self.hiddenParams.contains(name) {
            params[name] = .string(value)
        }
        return params
    }

    /// Provider parameters that are credentials, or half of one.
    static let hiddenParams = ProviderParams.secrets.union(["aws_access_key_id"])

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `scheme://host[:port]/path` of `url`: user info and query string dropped.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "" }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? ""
    }
}
