/// The constants of OpenAI's cookbook "How to count tokens with tiktoken"
/// (https://github.com/openai/openai-cookbook/blob/main/examples/How_to_count_tokens_with_tiktoken.ipynb):
/// what chat formatting adds to the text's own tokens. They are empirical, checked there against
/// the API's `prompt_tokens` for gpt-3.5-turbo, gpt-4 and gpt-4o; newer models publish none, so
/// their counts are close estimates.
public struct ChatOverhead: Sendable, Equatable {
    /// Added for every message.
    public var tokensPerMessage = 3
    /// Added when a message has a `name`.
    public var tokensPerName = 1
    /// Added once: every reply is primed with `<|start|>assistant<|message|>`.
    public var replyPriming = 3
    /// Tools (`num_tokens_for_tools`): per function, once if it has properties, per property,
    /// once per enum, per enum item, and once after all functions.
    public var functionInit: Int
    public var propertiesInit = 3
    public var propertyKey = 3
    public var enumInit = -3
    public var enumItem = 3
    public var functionsEnd = 12

    /// gpt-4o and later (`o200k_base`) start each function with 7 tokens; gpt-3.5-turbo and
    /// gpt-4 (`cl100k_base`) with 10.
    public init(encoding: TokenEncoding) {
        functionInit = encoding == .cl100kBase ? 10 : 7
    }
}
