import Telemetry
import Testing

@testable import Proxy
@testable import Sinks

/// What a LiteLLM config or client could otherwise leak or break: credentials LiteLLM turns into
/// tokens itself, header secrets, line breaks in a client's label values.
@Suite struct LiteLLMHardeningTests {
    let loader = ConfigLoader(environment: [:], knownProviders: ["openai", "azure", "mock"])

    /// An Entra ID config from LiteLLM's docs must not send its client secret to Azure in every
    /// request body; `extra_headers` values count as secrets (scrubbed from errors and logs).
    @Test func credentialSettingsAreNeverForwardedAndHeaderValuesAreSecrets() throws {
        let config = try loader.load(
            yaml: """
                model_list:
                  - model_name: gpt-4o
                    litellm_params:
                      model: azure/prod-4o
                      api_base: "https://x.openai.azure.com"
                      tenant_id: t-1
                      client_id: c-1
                      client_secret: entra-client-secret-value
                      temperature: 0.2
                      extra_headers: {Ocp-Apim-Subscription-Key: apim-secret-value}
                """)
        let deployment = try #require(config.deployments.first)
        let defaults = String(decoding: JSONValue.object(deployment.defaultParams).encoded(), as: UTF8.self)
        #expect(!defaults.contains("entra-client-secret-value") && !defaults.contains("tenant_id"))
        #expect(deployment.defaultParams["temperature"]?.doubleValue == 0.2)
        #expect(config.warnings.contains { $0.path.hasSuffix("litellm_params.client_secret") })
        #expect(deployment.secrets.contains("apim-secret-value"))
    }

    /// "\r\n" is one Swift `Character`; the exposition must still never carry a raw line break.
    @Test func labelValuesNeverCarryALineBreak() {
        #expect(LiteLLMRegistry.escapeLabel("a\r\nb\nc\"d\\") == #"a\nb\nc\"d\\"#)
        #expect(LiteLLMRegistry.escapeLabel("plain") == "plain")
    }
}
