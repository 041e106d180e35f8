import Yams

extension ConfigLoader {
    /// What telemetry may reveal and charge: `general_settings.require_auth_for_metrics_endpoint`,
    /// `SPANWAY_METRICS_TOKEN` and `spanway_settings.require_price`. Read after `model_list`,
    /// since `require_price` is copied to every deployment.
    func readExposure(
        general: [String: Node], spanway: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader
    ) {
        if let node = general["require_auth_for_metrics_endpoint"] {
            config.requireAuthForMetrics =
                reader.bool(node, at: "general_settings.require_auth_for_metrics_endpoint") ?? false
        }
        if let token = environment["SPANWAY_METRICS_TOKEN"], !token.isEmpty {
            config.metricsToken = token
        }
        if let node = spanway["require_price"] {
            config.requirePrice = reader.bool(node, at: "spanway_settings.require_price") ?? false
        }
        for index in config.deployments.indices { config.deployments[index].requirePrice = config.requirePrice }
    }
}
