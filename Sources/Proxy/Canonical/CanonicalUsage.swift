import Telemetry

/// OpenAI's `usage` object: what every adapter answers clients with, and what the gateway reads
/// back from a relayed stream's usage chunk. `prompt_tokens` includes cached and cache-write
/// tokens and `completion_tokens` includes reasoning tokens, as `Usage` counts them.
/// https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
enum CanonicalUsage {
    /// The breakdowns a provider reports. One it does not report is left out of the answer rather
    /// than sent as 0, which would claim that nothing was cached or reasoned.
    struct Details: OptionSet, Sendable {
        let rawValue: Int
        /// `prompt_tokens_details.cached_tokens`.
        static let cachedTokens = Details(rawValue: 1 << 0)
        /// `completion_tokens_details.reasoning_tokens`.
        static let reasoningTokens = Details(rawValue: 1 << 1)
    }

    /// The usage object for a chat answer. Cache writes go in
    /// `prompt_tokens_details.cache_creation_tokens` whenever there were any: no provider that
    /// reports none can have a non-zero count, and `parse` reads the field back, so a streamed
    /// answer's spend includes them.
    static func json(_ usage: Usage, reported: Details) -> JSONValue {
        var object: JSONObject = [
            "prompt_tokens": .int(usage.inputTokens), "completion_tokens": .int(usage.outputTokens),
            "total_tokens": .int(usage.totalTokens),
        ]
        var prompt = JSONObject()
        if reported.contains(.cachedTokens) { prompt["cached_tokens"] = .int(usage.cacheReadTokens) }
        if usage.cacheCreationTokens > 0 { prompt["cache_creation_tokens"] = .int(usage.cacheCreationTokens) }
        if !prompt.isEmpty { object["prompt_tokens_details"] = .object(prompt) }
        if reported.contains(.reasoningTokens) {
            object["completion_tokens_details"] = .object(["reasoning_tokens": .int(usage.reasoningTokens)])
        }
        return .object(object)
    }

    /// The usage object of an embeddings answer, which has no output.
    static func embeddingsJSON(promptTokens: Int) -> JSONValue {
        .object(["prompt_tokens": .int(promptTokens), "total_tokens": .int(promptTokens)])
    }

    /// An OpenAI-shaped usage object (an upstream's, or one `json` built) in GenAI terms; nil
    /// without a prompt count. `input_tokens`/`output_tokens` are the Responses API's names.
    static func parse(_ json: JSONValue) -> Usage? {
        guard let object = json.objectValue else { return nil }
        let input = object["prompt_tokens"]?.tokenCount ?? object["input_tokens"]?.tokenCount
        guard let input else { return nil }
        return Usage(
            inputTokens: input,
            outputTokens: object["completion_tokens"]?.tokenCount ?? object["output_tokens"]?.tokenCount ?? 0,
            // DeepSeek reports cache hits on its own field.
            cacheReadTokens: object["prompt_tokens_details"]?["cached_tokens"]?.tokenCount
                ?? object["prompt_cache_hit_tokens"]?.tokenCount
                ?? object["input_tokens_details"]?["cached_tokens"]?.tokenCount ?? 0,
            cacheCreationTokens: object["prompt_tokens_details"]?["cache_creation_tokens"]?.tokenCount ?? 0,
            reasoningTokens: object["completion_tokens_details"]?["reasoning_tokens"]?.tokenCount
                ?? object["output_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
    }
}
