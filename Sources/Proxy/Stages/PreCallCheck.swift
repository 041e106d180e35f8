import Telemetry
import Tokenizers

/// `router_settings.enable_pre_call_checks`: deployments whose context window (the price table's
/// `max_input_tokens`) cannot hold the request are left out before any call.
///
/// The prompt is counted as each deployment's model counts it (`PromptCounter`): exactly enough
/// for OpenAI models with a loaded encoding, else estimated as UTF-8 bytes ÷ 4 (about right for
/// English prose; code and most other languages have more tokens per byte, so the estimate errs
/// towards letting a request through, and the provider's own refusal then still reaches
/// `context_window_fallbacks`).
enum PreCallCheck {
    static let bytesPerToken = FallbackEstimate.bytesPerToken

    /// The deployments of `plan` that can hold the request; an error when none can.
    static func fitting(_ plan: [Deployment], request: OpenAIRequest, prompts: PromptCounter = .estimating)
        throws(GatewayError) -> [Deployment]
    {
        // Counted once per tokenizer: deployments of one group usually share a model.
        var counts: [String: Int] = [:]
        func tokens(_ deployment: Deployment) -> Int {
            let tokenizer = prompts.tokenizer(for: deployment.config)
            let key = tokenizer?.encoding.rawValue ?? ""
            if let count = counts[key] { return count }
            let count = prompts.inputTokens(request.body, tokenizer: tokenizer).tokens
            counts[key] = count
            return count
        }
        let fitting = plan.filter { deployment in deployment.maxInputTokens.map { tokens(deployment) <= $0 } ?? true }
        guard fitting.isEmpty else { return fitting }
        let largest = plan.compactMap(\.maxInputTokens).max() ?? 0
        let counted = plan.first.map(tokens) ?? 0
        throw .contextWindowExceeded(
            "The request (about \(counted) tokens) is longer than the context window of every deployment of "
                + "'\(plan.first?.config.modelName ?? "")' (the largest holds \(largest)).", param: "messages")
    }
}
