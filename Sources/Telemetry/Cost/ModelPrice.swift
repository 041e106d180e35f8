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
    /// Per-unit prices of images, audio and rerank (LiteLLM's `output_cost_per_image`,
    /// `input_cost_per_second`, `input_cost_per_character`, `input_cost_per_query`) and the
    /// output rate of image tokens (`output_cost_per_image_token`).
    public var outputCostPerImage: Double?
    public var inputCostPerSecond: Double?
    public var inputCostPerCharacter: Double?
    public var inputCostPerQuery: Double?
    public var outputCostPerImageToken: Double?

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

    /// Cost in USD of an answer billed in tokens, units, or both; nil when the table has no rate
    /// for what was billed. Image tokens out are charged at the image-token rate where there is one.
    public func cost(of usage: Usage?, units: BilledUnits?) -> Double? {
        var total: Double?
        func add(_ amount: Double?) {
            if let amount { total = (total ?? 0) + amount }
        }
        if let usage {
            if let imageRate = outputCostPerImageToken, units?.images != nil {
                var price = self
                price.outputCostPerToken = imageRate
                add(price.cost(of: usage))
            } else {
                add(cost(of: usage))
            }
        }
        if let units {
            // Units bill only what tokens did not: an image answer with token usage is priced by it.
            if usage == nil, let images = units.images, let rate = outputCostPerImage { add(Double(images) * rate) }
            if let seconds = units.seconds, let rate = inputCostPerSecond { add(seconds * rate) }
            if let characters = units.characters, let rate = inputCostPerCharacter { add(Double(characters) * rate) }
            if let queries = units.queries, let rate = inputCostPerQuery { add(queries * rate) }
        }
        return total
    }

    /// This price with the fields of `override` that are set replacing ours.
    public func overridden(input: Double?, output: Double?) -> ModelPrice {
        var price = self
        if let input { price.inputCostPerToken = input }
        if let output { price.outputCostPerToken = output }
        return price
    }
}
