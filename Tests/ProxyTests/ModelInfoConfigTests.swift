import Telemetry
import Testing

@testable import Proxy

/// `model_info.base_model`, `mode`, `max_input_tokens`, `max_output_tokens` and the
/// `general_settings` health-check keys, read from a LiteLLM config, and the price lookup that
/// follows `base_model`.
@Suite struct ModelInfoConfigTests {
    let loader = ConfigLoader(environment: [:], knownProviders: ["openai", "azure", "mock"])

    @Test func readsModelInfoAndHealthSettings() throws {
        let config = try loader.load(
            yaml: """
                model_list:
                  - model_name: gpt-4o
                    litellm_params: {model: azure/prod-4o, api_base: "https://x.openai.azure.com"}
                    model_info: {id: az, base_model: azure/gpt-4o, mode: chat, max_input_tokens: 1000, max_output_tokens: 50}
                  - model_name: embed
                    litellm_params: {model: openai/text-embedding-3-small}
                    model_info: {mode: embedding}
                general_settings: {health_check_interval: 30, background_health_checks: true}
                """)
        let azure = try #require(config.deployments.first)
        #expect(azure.baseModel == "azure/gpt-4o" && azure.mode == "chat")
        #expect(azure.maxInputTokens == 1000 && azure.maxOutputTokens == 50)
        #expect(config.deployments[1].mode == "embedding" && config.deployments[1].baseModel == nil)
        #expect(config.healthChecks == HealthCheckSettings(interval: 30, background: true))
        // None of these keys is "unknown".
        #expect(!config.warnings.contains { $0.path.contains("model_info") || $0.path.contains("health") })
    }

    @Test func defaultsAndBadValues() throws {
        let plain = try loader.load(yaml: "model_list: []")
        #expect(plain.healthChecks == HealthCheckSettings(interval: 300, background: false))
        let (_, issues) = loader.check(
            yaml: """
                model_list:
                  - model_name: a
                    litellm_params: {model: openai/gpt-4o}
                    model_info: {max_input_tokens: 0, mode: telepathy}
                general_settings: {health_check_interval: 0}
                """)
        #expect(issues.contains { $0.severity == .error && $0.path == "model_list[0].model_info.max_input_tokens" })
        #expect(issues.contains { $0.severity == .warning && $0.path == "model_list[0].model_info.mode" })
        #expect(issues.contains { $0.severity == .error && $0.path == "general_settings.health_check_interval" })
    }

    @Test func pricesFollowBaseModelAndModelInfoLimits() {
        let table = ModelPrice(
            inputCostPerToken: 2.5e-6, outputCostPerToken: 1e-5, maxInputTokens: 128_000, maxOutputTokens: 16_384,
            mode: "chat")
        let book = PriceBook(prices: ["azure/gpt-4o": table])
        var entry = DeploymentConfig(modelName: "g", provider: "azure", model: "prod-4o", id: "d")
        #expect(book.price(for: entry) == nil)
        entry.baseModel = "azure/gpt-4o"
        #expect(book.price(for: entry) == table)
        entry.maxInputTokens = 1000
        entry.maxOutputTokens = 10
        let limited = book.price(for: entry)
        #expect(limited?.inputCostPerToken == 2.5e-6 && limited?.maxInputTokens == 1000 && limited?.maxOutputTokens == 10)
        // A bare base_model finds the provider's row.
        entry.baseModel = "gpt-4o"
        #expect(book.price(for: entry)?.inputCostPerToken == 2.5e-6)
    }
}
