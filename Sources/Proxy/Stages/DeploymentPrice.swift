import Telemetry

extension PriceBook {
    /// The table's price for a deployment's model, with the deployment's own prices on top. The
    /// built-in mock providers are looked up by model name alone.
    func price(for entry: DeploymentConfig) -> ModelPrice? {
        let provider = ProviderCatalogue.inProcess.contains(entry.provider) ? nil : entry.provider
        if let base = price(model: entry.model, provider: provider) {
            return base.overridden(input: entry.inputCostPerToken, output: entry.outputCostPerToken)
        }
        guard entry.inputCostPerToken != nil || entry.outputCostPerToken != nil else { return nil }
        return ModelPrice(
            inputCostPerToken: entry.inputCostPerToken ?? 0, outputCostPerToken: entry.outputCostPerToken ?? 0)
    }
}
