import Logging
import Telemetry

/// Makes a `model_list` entry ready to call: its adapter, transport and price. The config's
/// entries go through it at start-up, and models added through the admin API whenever they
/// change, so both are built the same way.
public struct DeploymentFactory: Sendable {
    /// Where `os.environ/NAME` and providers' default key variables resolve.
    let environment: [String: String]
    let priceBook: PriceBook
    let network: any Transport
    let mock: any Transport
    /// Reads one entry exactly as the config's `model_list` entries are read.
    let loader: ConfigLoader
    /// `litellm_settings.drop_params` and `spanway_settings.require_price`, which bind every entry.
    let dropParams: Bool
    let requirePrice: Bool
    let logger: Logger

    init(
        config: GatewayConfig, environment: [String: String], priceBook: PriceBook, network: any Transport,
        mock: any Transport, logger: Logger
    ) {
        let environment = environment.merging(config.environmentVariables) { $1 }
        self.environment = environment
        self.priceBook = priceBook
        self.network = network
        self.mock = mock
        self.loader = ProviderCatalogue.configLoader(environment: environment)
        self.dropParams = config.dropParams
        self.requirePrice = config.requirePrice
        self.logger = logger
    }

    /// Nil for a provider no adapter serves (the config loader has refused it already).
    func make(_ entry: DeploymentConfig) -> Deployment? {
        var entry = entry
        guard let adapter = ProviderCatalogue.adapters[entry.provider] else { return nil }
        if entry.apiKey == nil, let name = adapter.apiKeyEnvironment { entry.apiKey = environment[name] }
        let transport: any Transport = ProviderCatalogue.inProcess.contains(entry.provider) ? mock : network
        let price = priceBook.price(for: entry)
        entry.maxOutputTokens = price?.maxOutputTokens ?? entry.maxOutputTokens
        // A wildcard deployment is priced per request, for the model it is asked for.
        if price == nil && !entry.model.contains("*") {
            logger.warning(
                "no price known for this deployment; its cost will be reported as 0",
                metadata: ["model_group": "\(entry.modelName)", "model": "\(entry.provider)/\(entry.model)"])
        }
        return Deployment(config: entry, adapter: adapter, transport: transport, price: price)
    }

    /// One `{model_name, litellm_params, model_info}` entry given as JSON, checked as a config
    /// entry is: the deployment, or the first error with the field it concerns.
    func deployment(fromJSON entry: JSONObject) -> Result<DeploymentConfig, ConfigIssue> {
        let (config, issues) = loader.deployment(fromJSON: entry, dropParams: dropParams)
        if let error = issues.first(where: { $0.severity == .error }) { return .failure(error) }
        guard var made = config else { return .failure(ConfigIssue(.error, "", "not a model entry")) }
        made.requirePrice = requirePrice
        return .success(made)
    }
}
