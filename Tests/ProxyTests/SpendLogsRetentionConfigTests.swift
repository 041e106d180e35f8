import Testing

@testable import Proxy

/// `spanway_settings.spend_logs_retention`: a LiteLLM-style duration, unset by default, and an
/// error naming its path when it is not one.
@Suite struct SpendLogsRetentionConfigTests {
    let loader = ProviderCatalogue.configLoader(environment: [:])

    @Test func aDurationIsReadInSeconds() throws {
        #expect(try loader.load(yaml: "model_list: []").spendLogsRetention == nil)
        let config = try loader.load(yaml: "spanway_settings: {spend_logs_retention: 30d}\nmodel_list: []")
        #expect(config.spendLogsRetention == 2_592_000.0)
        #expect(
            try loader.load(yaml: "spanway_settings: {spend_logs_retention: 12h}\nmodel_list: []").spendLogsRetention == 43_200)
    }

    @Test(arguments: ["forever", "0d", "-1d", "30"])
    func anythingElseIsAnErrorAtItsPath(value: String) {
        let (_, issues) = loader.check(yaml: "spanway_settings: {spend_logs_retention: \"\(value)\"}\nmodel_list: []")
        #expect(issues.contains { $0.severity == .error && $0.path == "spanway_settings.spend_logs_retention" }, "\(issues)")
        #expect(!issues.contains { $0.severity == .warning && $0.message.contains("spend_logs_retention") })
    }
}
