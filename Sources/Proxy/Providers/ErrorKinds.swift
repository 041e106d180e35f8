/// The upstream failures the router treats apart (providers.md §9): a prompt too long for the
/// model's context window (fall back to a bigger model) and a content-policy refusal (fall back to
/// another provider). Every adapter recognises them in its own provider's words.
extension GatewayError {
    public static let contextWindowExceededCode = "context_length_exceeded"
    public static let contentPolicyViolationCode = "content_policy_violation"

    public static func contextWindowExceeded(_ message: String, status: Int = 400, param: String? = nil) -> GatewayError {
        GatewayError(
            status: status == 413 ? 413 : 400, type: "invalid_request_error", message: message, param: param,
            code: contextWindowExceededCode, errorType: contextWindowExceededCode)
    }

    public static func contentPolicyViolation(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(
            status: 400, type: "invalid_request_error", message: message, param: param, code: contentPolicyViolationCode,
            errorType: contentPolicyViolationCode)
    }

    public var isContextWindowExceeded: Bool { code == Self.contextWindowExceededCode }
    public var isContentPolicyViolation: Bool { code == Self.contentPolicyViolationCode }
}

enum UpstreamErrorText {
    /// Phrases providers use for a prompt over the context window (providers.md §9.2, LiteLLM's
    /// list), lower-cased. Parameter-length errors ("string_above_max_length") are not among them.
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
