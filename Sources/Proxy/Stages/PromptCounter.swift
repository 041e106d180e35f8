import Logging
import Telemetry
import Tokenizers

/// Prompt tokens of a request as a deployment's model counts them: OpenAI models (the `openai`
/// and `azure` providers) with their BPE encoding once its rank file is loaded; every other
/// model, and OpenAI models until then, with `FallbackEstimate` (UTF-8 bytes ÷ 4).
///
/// Used by the pre-call context-window check, by the usage charged for a stream the upstream
/// never reported usage for, and by `/v1/messages/count_tokens` for non-Anthropic models.
public struct PromptCounter: Sendable {
    public let counter: TokenCounter

    /// Providers that serve OpenAI's own models, whose encodings tiktoken publishes.
    static let openAIProviders: Set<String> = ["openai", "azure"]

    public init(counter: TokenCounter) {
        self.counter = counter
    }

    /// Rank files from the config's tokenizer directories; the encodings the configured OpenAI
    /// models use start loading now, in the background.
    public init(config: GatewayConfig, logger: Logger) {
        let store = TokenizerStore(sources: RankFileSources(directories: config.tokenizerDirectories), logger: logger)
        store.preload(config.deployments.compactMap(Self.encoding))
        self.init(counter: TokenCounter(store: store))
    }

    /// Estimates only.
    public static let estimating = PromptCounter(counter: .estimating)

    /// The encoding of a deployment's model; nil when it is not an OpenAI model.
    static func encoding(of deployment: DeploymentConfig) -> TokenEncoding? {
        guard openAIProviders.contains(deployment.provider) else { return nil }
        return ModelEncodings.encoding(forModel: modelName(of: deployment)) ?? .o200kBase
    }

    /// `model_info.base_model` (an Azure deployment's name says nothing), else the model, without
    /// any `provider/` prefix.
    static func modelName(of deployment: DeploymentConfig) -> String {
        let name = deployment.baseModel ?? deployment.model
        guard let slash = name.firstIndex(of: "/") else { return name }
        return String(name[name.index(after: slash)...])
    }

    /// The tokenizer for the deployment's model, if it has one and it is loaded.
    public func tokenizer(for deployment: DeploymentConfig?) -> BPETokenizer? {
        guard let deployment, let encoding = Self.encoding(of: deployment) else { return nil }
        return counter.store?.tokenizer(for: encoding)
    }

    /// The prompt of a chat (`messages`, `tools`), embeddings (`input`) or other request.
    public func inputTokens(_ request: OpenAIRequest, deployment: DeploymentConfig?) -> TokenTally {
        inputTokens(request.body, tokenizer: tokenizer(for: deployment))
    }

    func inputTokens(_ body: JSONObject, tokenizer: BPETokenizer?) -> TokenTally {
        if let messages = body["messages"]?.arrayValue {
            return counter.count(messages: messages, tools: body["tools"]?.arrayValue ?? [], using: tokenizer)
        }
        var tally = TokenTally(tokens: 0, estimated: tokenizer == nil)
        func add(_ value: JSONValue) {
            switch value {
            case .string(let text): tally.tokens += counter.count(text: text, using: tokenizer).tokens
            case .array(let items): for item in items { add(item) }
            // A Responses input item: the text it carries (not ids, types or image data).
            case .object(let item): for field in Self.itemTextFields { if let value = item[field] { add(value) } }
            default: break
            }
        }
        if let input = body["input"] ?? body["prompt"] { add(input) }
        if let instructions = body["instructions"] { add(instructions) }
        return tally
    }

    /// The fields of a Responses input item (and of its content parts) that hold the prompt's text.
    static let itemTextFields = ["content", "text", "output", "arguments", "name", "refusal"]
}
