import Testing

@testable import Proxy

extension ConfigLoaderTests {
    @Test func readsMetricsAuthAndRequirePrice() throws {
        let config = try ConfigLoader(environment: ["SPANWAY_METRICS_TOKEN": "scrape-tok"], knownProviders: ["mock"]).load(
            yaml: """
                model_list:
                  - {model_name: "mock/*", litellm_params: {model: "mock/*"}}
                  - {model_name: local, litellm_params: {model: mock/gpt-4o-mini}}
                general_settings: {require_auth_for_metrics_endpoint: true}
                spanway_settings: {require_price: true}
                """)
        #expect(config.requireAuthForMetrics && config.requirePrice)
        #expect(config.metricsToken == "scrape-tok")
        #expect(!config.deployments.isEmpty && config.deployments.allSatisfy { $0.requirePrice })
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    @Test func metricsAndPriceSettingsDefaultOff() throws {
        let config = try ConfigLoader(environment: ["SPANWAY_METRICS_TOKEN": ""], knownProviders: ["mock"]).load(
            yaml: """
                model_list: [{model_name: local, litellm_params: {model: mock/gpt-4o-mini}}]
                """)
        #expect(!config.requireAuthForMetrics && !config.requirePrice && config.metricsToken == nil)
        #expect(!config.deployments.contains { $0.requirePrice })
    }

    @Test func wrongTypesAreErrorsWithTheirPaths() {
        let (_, issues) = ConfigLoader(environment: [:], knownProviders: ["mock"]).check(
            yaml: """
                model_list: [{model_name: local, litellm_params: {model: mock/gpt-4o-mini}}]
                general_settings: {require_auth_for_metrics_endpoint: "yes please"}
                spanway_settings: {require_price: 1}
                """)
        let errors = issues.filter { $0.severity == .error }.map(\.path)
        #expect(errors.contains("general_settings.require_auth_for_metrics_endpoint"))
        #expect(errors.contains("spanway_settings.require_price"))
    }
}
