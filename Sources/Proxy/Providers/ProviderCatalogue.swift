/// Provider prefixes (`openai/…`, `mock/…`) to their adapters; one line per provider.
public enum ProviderCatalogue {
    public static let adapters: [String: any ProviderAdapter] = [
        "openai": OpenAIAdapter(),
        "anthropic": AnthropicAdapter(),
        // The mock speaks OpenAI's wire format in-process (see MockUpstream).
        "mock": OpenAIAdapter(providerName: "mock", defaultAPIBase: "mock://spanway/v1"),
    ]

    /// Providers answered in-process instead of over the network.
    public static let inProcess: Set<String> = ["mock"]

    public static var names: Set<String> { Set(adapters.keys) }
}
