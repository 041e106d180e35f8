/// Phrases providers use for a prompt over the model's context window (LiteLLM's list, and each
/// provider's own wording), lower-cased. Parameter-length errors ("string_above_max_length") are
/// not among them.
enum UpstreamErrorText {
    static let contextWindowPhrases = [
        "context_length_exceeded", "maximum context length", "reduce the length of the messages",
        "prompt is too long", "exceed context limit", "prompt: length", "model's maximum context limit",
        "is longer than the model's context length", "input tokens exceed the configured limit",
        "`inputs` tokens + `max_new_tokens` must be", "exceeds the available context size",
        "exceeds the maximum number of tokens allowed", "request payload size exceeds the limit",
        "input is too long", "too many input tokens", "too many tokens", "expected maxlength:",
        "input too long", "current length is", "requested token count exceeds",
    ]

    static func isContextWindowExceeded(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return contextWindowPhrases.contains { lowered.contains($0) }
    }
}
