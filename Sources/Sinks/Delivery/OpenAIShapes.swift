import Telemetry

/// OpenAI-shaped pieces that several callback payloads carry (Helicone's request and response,
/// LiteLLM's `model_parameters` and `usage_object`), built once from the normalised span.
enum OpenAIShapes {
    /// OpenAI request fields for the `gen_ai.request.*` attributes the gateway records.
    static let requestParameters: [(attribute: String, field: String)] = [
        (AttributeName.requestMaxTokens, "max_tokens"), (AttributeName.requestTemperature, "temperature"),
        (AttributeName.requestTopP, "top_p"), (AttributeName.requestFrequencyPenalty, "frequency_penalty"),
        (AttributeName.requestPresencePenalty, "presence_penalty"), (AttributeName.requestStopSequences, "stop"),
        (AttributeName.requestSeed, "seed"), (AttributeName.requestChoiceCount, "n"),
    ]

    /// The request parameters of an attempt under their OpenAI names.
    static func parameters(of attempt: SpanData?) -> JSONObject {
        var parameters = JSONObject()
        guard let attributes = attempt?.attributes else { return parameters }
        for (attribute, field) in requestParameters {
            if let value = attributes[attribute] { parameters[field] = value.json }
        }
        return parameters
    }

    /// OpenAI's usage object: `prompt_tokens` includes cached tokens and `completion_tokens`
    /// reasoning tokens, as the summary's counts do; the details name the parts.
    static func usage(_ usage: Usage, embeddings: Bool = false) -> JSONObject {
        if embeddings { return ["prompt_tokens": .int(usage.inputTokens), "total_tokens": .int(usage.totalTokens)] }
        return [
            "prompt_tokens": .int(usage.inputTokens),
            "completion_tokens": .int(usage.outputTokens),
            "total_tokens": .int(usage.totalTokens),
            "prompt_tokens_details": .object(["cached_tokens": .int(usage.cacheReadTokens)]),
            "completion_tokens_details": .object(["reasoning_tokens": .int(usage.reasoningTokens)]),
        ]
    }
}
