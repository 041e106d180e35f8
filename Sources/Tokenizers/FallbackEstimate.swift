/// The estimate used where no tokenizer is known (Anthropic, Gemini, Bedrock, Cohere, Mistral, …,
/// and OpenAI models whose rank file is not available): **UTF-8 bytes ÷ 4, rounded up**.
///
/// It is an estimate, not a count. Four bytes a token is about right for English prose in
/// current BPE vocabularies; code, non-Latin scripts and rare words have more tokens per byte,
/// so it tends to undercount them (a context-window check then errs towards letting a request
/// through, and the provider's own refusal still reaches `context_window_fallbacks`). Anthropic
/// publishes no local tokenizer for current Claude models, and Gemini's local tokenizer needs a
/// model downloaded at run time; exact counts come from the providers' own counting endpoints.
public enum FallbackEstimate {
    public static let bytesPerToken = 4

    public static func tokens(bytes: Int) -> Int {
        (max(bytes, 0) + bytesPerToken - 1) / bytesPerToken
    }

    public static func tokens(_ text: String) -> Int {
        tokens(bytes: text.utf8.count)
    }
}
