/// Provider prefixes (`openai/…`, `mock/…`) to their adapters; one line per provider.
public enum ProviderCatalogue {
    public static let adapters: [String: any ProviderAdapter] = native.merging(compatible) { first, _ in first }

    static let native: [String: any ProviderAdapter] = [
        "openai": OpenAIAdapter(),
        "anthropic": AnthropicAdapter(),
        "azure": AzureAdapter(),
        "gemini": GeminiAdapter(platform: .aiStudio),
        "vertex_ai": GeminiAdapter(platform: .vertexAI),
        "bedrock": BedrockAdapter(),
        "cohere": CohereAdapter(),
        "cohere_chat": CohereAdapter(),
        "ollama": OllamaAdapter(),
        "ollama_chat": OllamaAdapter(),
        // The mock speaks OpenAI's wire format in-process (see MockUpstream).
        "mock": OpenAIAdapter(providerName: "mock", defaultAPIBase: "mock://spanway/v1", apiKeyEnvironment: nil),
    ]

    /// Plainly OpenAI-compatible providers: LiteLLM's prefix, the provider's
    /// base URL and the environment variable LiteLLM reads its key from, so that
    /// `model: groq/llama-3.1-8b-instant` works with only a key. `gen_ai.provider.name` is
    /// OpenTelemetry's well-known value where there is one, else the prefix.
    static let compatible: [String: any ProviderAdapter] = Dictionary(
        uniqueKeysWithValues: [
            ("groq", "groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
            ("together_ai", "together_ai", "https://api.together.xyz/v1", "TOGETHERAI_API_KEY"),
            ("fireworks_ai", "fireworks_ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_AI_API_KEY"),
            ("deepinfra", "deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
            ("mistral", "mistral_ai", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
            ("xai", "x_ai", "https://api.x.ai/v1", "XAI_API_KEY"),
            ("openrouter", "openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
            ("deepseek", "deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
            ("perplexity", "perplexity", "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"),
            ("cerebras", "cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
            ("hosted_vllm", "vllm", "http://localhost:8000/v1", "HOSTED_VLLM_API_KEY"),
            ("lm_studio", "lm_studio", "http://localhost:1234/v1", "LM_STUDIO_API_KEY"),
            ("llamafile", "llamafile", "http://127.0.0.1:8080/v1", "LLAMAFILE_API_KEY"),
            ("huggingface", "huggingface", "https://router.huggingface.co/v1", "HF_TOKEN"),
            // Databricks has no shared host: api_base is the workspace's /serving-endpoints.
            ("databricks", "databricks", "", "DATABRICKS_API_KEY"),
            ("nvidia_nim", "nvidia_nim", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY"),
            ("sambanova", "sambanova", "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
            ("github", "github", "https://models.github.ai/inference", "GITHUB_API_KEY"),
            // Ollama's OpenAI-compatible path; `ollama/` and `ollama_chat/` use its native API.
            ("ollama_openai", "ollama", "http://localhost:11434/v1", "OLLAMA_API_KEY"),
        ].map { prefix, name, base, key in
            (prefix, OpenAIAdapter(providerName: name, defaultAPIBase: base, apiKeyEnvironment: key) as any ProviderAdapter)
        })

    /// Providers answered in-process instead of over the network.
    public static let inProcess: Set<String> = ["mock"]

    public static var names: Set<String> { Set(adapters.keys) }

    public static var needingAPIBase: Set<String> { Set(adapters.filter { $0.value.defaultAPIBase.isEmpty }.keys) }

    /// A config loader that knows every provider here.
    public static func configLoader(environment: [String: String]) -> ConfigLoader {
        ConfigLoader(environment: environment, knownProviders: names, providersNeedingAPIBase: needingAPIBase)
    }
}
