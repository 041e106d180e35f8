import Telemetry

/// OpenAI parameters a provider cannot honour: refused with a 400 naming the
/// parameter, or removed when the deployment has `drop_params` (LiteLLM's switch). `n > 1` is
/// refused even then, since dropping it would change how many answers the client gets.
struct UnsupportedParams {
    let provider: String
    let names: [String]
    var allowsSeveralChoices = false
    /// Whether `parallel_tool_calls: false` can be honoured; if not it is refused like the rest.
    var canDisableParallelToolCalls = false

    /// Parameters whose answers come back in a shape the gateway does not translate (log
    /// probabilities, audio, predicted outputs, web search, the deprecated functions API), for
    /// providers that rebuild the request in their own shape (Cohere, Ollama).
    static let untranslatedAnswers = [
        "logprobs", "top_logprobs", "logit_bias", "audio", "prediction", "functions", "function_call",
        "web_search_options",
    ]

    func apply(to body: JSONObject, dropping: Bool) throws(GatewayError) -> JSONObject {
        var body = body
        if !allowsSeveralChoices, let n = body["n"]?.intValue, n > 1 {
            throw .invalidRequest("'n' greater than 1 is not supported by \(provider) models.", param: "n")
        }
        var refused = names.filter { Self.isSet(body[$0]) }
        if !canDisableParallelToolCalls && body["parallel_tool_calls"] == .bool(false) { refused.append("parallel_tool_calls") }
        for name in refused {
            guard dropping else {
                throw .invalidRequest(
                    "'\(name)' is not supported by \(provider) models (set drop_params: true to drop it).", param: name)
            }
            body[name] = nil
        }
        return body
    }

    /// Set to something other than null or false: `"logprobs": false` asks for nothing.
    static func isSet(_ value: JSONValue?) -> Bool {
        guard let value else { return false }
        return !value.isNull && value != .bool(false)
    }
}
