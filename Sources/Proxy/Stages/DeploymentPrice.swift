import Telemetry

extension PriceBook {
    /// The table's price for a deployment's model (its `model_info.base_model` when set, as an
    /// Azure deployment's own name is not in the table), with the deployment's own prices and
    /// token limits on top. The built-in mock providers are looked up by model name alone.
    func price(for entry: DeploymentConfig) -> ModelPrice? {
        let provider = ProviderCatalogue.inProcess.contains(entry.provider) ? nil : entry.provider
        if var base = price(model: entry.baseModel ?? entry.model, provider: provider) {
            base = base.overridden(input: entry.inputCostPerToken, output: entry.outputCostPerToken)
            base.maxInputTokens = entry.maxInputTokens ?? base.maxInputTokens
            base.maxOutputTokens = entry.maxOutputTokens ?? base.maxOutputTokens
            base.mode = entry.mode ?? base.mode
            return base
        }
        guard entry.inputCostPerToken != nil || entry.outputCostPerToken != nil else { return nil }
        return ModelPrice(
            inputCostPerToken: entry.inputCostPerToken ?? 0, outputCostPerToken: entry.outputCostPerToken ?? 0,
            maxInputTokens: entry.maxInputTokens, maxOutputTokens: entry.maxOutputTokens, mode: entry.mode)
    }
}
