import Sinks
import Testing

@testable import Proxy

/// `spanway_settings.prometheus_names`: Spanway's names only by default, LiteLLM's beside them
/// when listed, and an unknown name an error at its path (a dashboard would otherwise read nothing).
@Suite struct PrometheusNamesConfigTests {
    let loader = ProviderCatalogue.configLoader(environment: [:])

    @Test func spanwayNamesByDefaultAndLiteLLMsWhenListed() throws {
        #expect(try loader.load(yaml: "model_list: []").prometheusNames == [.spanway])
        let both = try loader.load(yaml: "spanway_settings: {prometheus_names: [spanway, litellm]}\nmodel_list: []")
        #expect(both.prometheusNames == [.spanway, .litellm])
        let (config, issues) = loader.check(yaml: "spanway_settings: {prometheus_names: [litellm]}\nmodel_list: []")
        #expect(config?.prometheusNames == [.spanway, .litellm])
        #expect(issues.contains { $0.severity == .warning && $0.message.contains("always exposed") })
        #expect(!issues.contains { $0.message.contains("unknown key") }, "\(issues)")
    }

    @Test(arguments: ["LiteLLM", "otel", "datadog"])
    func anUnknownNameIsAnErrorAtItsPath(name: String) {
        let (_, issues) = loader.check(yaml: "spanway_settings: {prometheus_names: [spanway, \(name)]}\nmodel_list: []")
        #expect(
            issues.contains {
                $0.severity == .error && $0.path == "spanway_settings.prometheus_names" && $0.message.contains(name)
            }, "\(issues)")
    }
}
