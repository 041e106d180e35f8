import Telemetry

/// `router_settings.enable_pre_call_checks`: deployments whose context window (the price table's
/// `max_input_tokens`) cannot hold the request are left out before any call.
///
/// The gateway has no tokenizer for most providers, so the prompt is estimated as its text's
/// UTF-8 bytes divided by 4 (about right for English prose; code and most other languages have
/// more tokens per byte, so the estimate errs towards letting a request through, and the
/// provider's own refusal then still reaches `context_window_fallbacks`).
enum PreCallCheck {
    static let bytesPerToken = 4

    static func estimatedInputTokens(_ request: OpenAIRequest) -> Int {
        var bytes = 0
        for message in request.body["messages"]?.arrayValue ?? [] {
            if let text = message["content"]?.stringValue {
                bytes += text.utf8.count
            } else {
                for part in message["content"]?.arrayValue ?? [] { bytes += part["text"]?.stringValue?.utf8.count ?? 0 }
            }
        }
        if let tools = request.body["tools"] { bytes += tools.encoded().count }
        return (bytes + bytesPerToken - 1) / bytesPerToken
    }

    /// The deployments of `plan` that can hold the request; an error when none can.
    static func fitting(_ plan: [Deployment], request: OpenAIRequest) throws(GatewayError) -> [Deployment] {
        let tokens = estimatedInputTokens(request)
        let fitting = plan.filter { deployment in deployment.price?.maxInputTokens.map { tokens <= $0 } ?? true }
        guard fitting.isEmpty else { return fitting }
        let largest = plan.compactMap { $0.price?.maxInputTokens }.max() ?? 0
        throw .contextWindowExceeded(
            "The request (about \(tokens) tokens) is longer than the context window of every deployment of "
                + "'\(plan.first?.config.modelName ?? "")' (the largest holds \(largest)).", param: "messages")
    }
}
