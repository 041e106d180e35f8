/// One model's row of the price table, in USD per token (LiteLLM's field names).
public struct ModelPrice: Sendable, Equatable {
    public var inputCostPerToken: Double
    public var outputCostPerToken: Double
    public var cacheReadInputTokenCost: Double?
    public var cacheCreationInputTokenCost: Double?
    public var outputCostPerReasoningToken: Double?
    public var maxInputTokens: Int?
    public var maxOutputTokens: Int?
    public var mode: String?
    /// `litellm_provider`: the provider the table files the model under (`/model/info` shows it).
    public var litellmProvider: String?
    /// The table's `supports_*` flags that are true, without the prefix (`function_calling`,
    /// `vision`, …), sorted; `/model/info` and `/model_group/info` show them.
    public var supports: [String] = []

    public init(
        inputCostPerToken: Double, outputCostPerToken: Double, cacheReadInputTokenCost: Double? = nil,
        cacheCreationInputTokenCost: Double? = nil, outputCostPerReasoningToken: Double? = nil,
        maxInputTokens: Int? = nil, maxOutputTokens: Int? = nil, mode: String? = nil
    ) {
        self.inputCostPerToken = inputCostPerToken
        self.outputCostPerToken = outputCostPerToken
        self.cacheReadInputTokenCost = cacheReadInputTokenCost
        self.cacheCreationInputTokenCost = cacheCreationInputTokenCost
        self.outputCostPerReasoningToken = outputCostPerReasoningToken
        self.maxInputTokens = maxInputTokens
        self.maxOutputTokens = maxOutputTokens
        self.mode = mode
    }

    /// Cost in USD. Cached and cache-creation input, and reasoning output, use their own rates
    /// where the table has them and the plain rate otherwise.
    public func cost(of usage: Usage) -> Double {
        let uncachedInput = max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheCreationTokens)
        let visibleOutput = max(0, usage.outputTokens - usage.reasoningTokens)
        let input =
            Double(uncachedInput) * inputCostPerToken
            + Double(usage.cacheReadTokens) * (cacheReadInputTokenCost ?? inputCostPerToken)
            + Double(usage.cacheCreationTokens) * (cacheCreationInputTokenCost ?? inputCostPerToken)
        let output =
            Double(visibleOutput) * outputCostPerToken
            + Double(usage.reasoningTokens) * (outputCostPerReasoningToken ?? outputCostPerToken)
        return input + output
    }

    /// This price with the fields of `override` that are set replacing ours.
    public func overridden(input: Double?, output: Double?) -> ModelPrice {
        var price = self
        if let input { price.inputCostPerToken = input }
        if let output { price.outputCostPerToken = output }
        return price
    }
}
