/// Token usage in the GenAI semantic-convention sense: `inputTokens` includes cached and
/// cache-creation tokens, `outputTokens` includes reasoning tokens. Adapters normalise to this.
public struct Usage: Sendable, Equatable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadTokens: Int
    public var cacheCreationTokens: Int
    public var reasoningTokens: Int

    public init(
        inputTokens: Int, outputTokens: Int, cacheReadTokens: Int = 0, cacheCreationTokens: Int = 0,
        reasoningTokens: Int = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheCreationTokens = cacheCreationTokens
        self.reasoningTokens = reasoningTokens
    }

    public var totalTokens: Int { inputTokens + outputTokens }

    /// The usage of two calls together.
    public func adding(_ other: Usage) -> Usage {
        Usage(
            inputTokens: inputTokens + other.inputTokens, outputTokens: outputTokens + other.outputTokens,
            cacheReadTokens: cacheReadTokens + other.cacheReadTokens,
            cacheCreationTokens: cacheCreationTokens + other.cacheCreationTokens,
            reasoningTokens: reasoningTokens + other.reasoningTokens)
    }
}
