import Testing

@testable import Proxy

/// `spanway_settings.tokenizer_dir`, then `SPANWAY_TOKENIZER_DIR`, then tiktoken's cache.
struct TokenizerConfigTests {
    static let yaml = """
        model_list:
          - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_key: k}}
        spanway_settings:
          tokenizer_dir: /srv/ranks
        """

    @Test func directoriesInOrder() throws {
        let loader = ProviderCatalogue.configLoader(environment: [
            "SPANWAY_TOKENIZER_DIR": "/env/ranks", "TIKTOKEN_CACHE_DIR": "/cache",
        ])
        let (config, issues) = loader.check(yaml: Self.yaml)
        #expect(config?.tokenizerDirectories == ["/srv/ranks", "/env/ranks", "/cache"])
        #expect(!issues.contains { $0.path.contains("tokenizer_dir") }, "a known key: \(issues)")
        let bare = try ProviderCatalogue.configLoader(environment: [:]).load(
            yaml: "model_list:\n  - {model_name: m, litellm_params: {model: openai/gpt-4o, api_key: k}}")
        #expect(bare.tokenizerDirectories.isEmpty)
    }

    /// OpenAI models (openai and azure providers) count with their encoding; an Azure deployment
    /// name is read through `base_model`; other providers have none.
    @Test func encodingsOfDeployments() throws {
        let yaml = """
            model_list:
              - {model_name: a, litellm_params: {model: openai/gpt-4, api_key: k}}
              - {model_name: b, litellm_params: {model: azure/my-deployment, api_base: "https://x.openai.azure.com", api_key: k, api_version: "2024-10-21"}, model_info: {base_model: azure/gpt-35-turbo}}
              - {model_name: c, litellm_params: {model: azure/another, api_base: "https://x.openai.azure.com", api_key: k, api_version: "2024-10-21"}}
              - {model_name: d, litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: k}}
            """
        let config = try ProviderCatalogue.configLoader(environment: [:]).load(yaml: yaml)
        let encodings = config.deployments.map { PromptCounter.encoding(of: $0)?.rawValue }
        #expect(encodings == ["cl100k_base", "cl100k_base", "o200k_base", nil])
    }
}
