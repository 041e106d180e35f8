/// Attribute names: OpenTelemetry GenAI semantic conventions v1.41 plus the gateway's own.
/// Defined here because the published Swift constants lag the specification.
public enum AttributeName {
    public static let operationName = "gen_ai.operation.name"
    public static let providerName = "gen_ai.provider.name"
    public static let requestModel = "gen_ai.request.model"
    public static let requestStream = "gen_ai.request.stream"
    public static let requestMaxTokens = "gen_ai.request.max_tokens"
    public static let requestTemperature = "gen_ai.request.temperature"
    public static let requestTopP = "gen_ai.request.top_p"
    public static let requestFrequencyPenalty = "gen_ai.request.frequency_penalty"
    public static let requestPresencePenalty = "gen_ai.request.presence_penalty"
    public static let requestStopSequences = "gen_ai.request.stop_sequences"
    public static let requestSeed = "gen_ai.request.seed"
    public static let requestChoiceCount = "gen_ai.request.choice.count"
    public static let responseModel = "gen_ai.response.model"
    public static let responseID = "gen_ai.response.id"
    public static let responseFinishReasons = "gen_ai.response.finish_reasons"
    public static let responseTimeToFirstChunk = "gen_ai.response.time_to_first_chunk"
    public static let usageInputTokens = "gen_ai.usage.input_tokens"
    public static let usageOutputTokens = "gen_ai.usage.output_tokens"
    public static let usageCacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens"
    public static let usageCacheCreationInputTokens = "gen_ai.usage.cache_creation.input_tokens"
    public static let usageReasoningOutputTokens = "gen_ai.usage.reasoning.output_tokens"
    public static let usageCost = "gen_ai.usage.cost"
    /// Opt-in content (capture_content), JSON strings.
    public static let inputMessages = "gen_ai.input.messages"
    public static let outputMessages = "gen_ai.output.messages"
    public static let serverAddress = "server.address"
    public static let serverPort = "server.port"
    public static let errorType = "error.type"

    public static let httpRequestMethod = "http.request.method"
    public static let httpResponseStatusCode = "http.response.status_code"
    public static let httpRoute = "http.route"

    public static let modelGroup = "spanway.model_group"
    public static let deploymentID = "spanway.deployment.id"
    /// The model an attempt asked its upstream for (the deployment's `model`, a wildcard made
    /// concrete); `gen_ai.request.model` stays the model the client asked for.
    public static let upstreamModel = "spanway.upstream.model"
    public static let keyAlias = "spanway.key.alias"
    public static let keyHash = "spanway.key.hash"
    public static let teamID = "spanway.team.id"
    public static let teamAlias = "spanway.team.alias"
    public static let userID = "spanway.user.id"
    public static let orgID = "spanway.org.id"
    public static let attempt = "spanway.attempt"
    public static let attempts = "spanway.attempts"
    public static let fallbackDepth = "spanway.fallback.depth"
    public static let clientDisconnected = "spanway.client.disconnected"
    /// The usage was counted by the gateway (an interrupted stream), not reported by the provider.
    public static let usageEstimated = "spanway.usage.estimated"

    /// The request's tags (`tags`, `metadata.tags`, `x-litellm-tags`, `x-spanway-tags`).
    public static let requestTags = "spanway.request.tags"
    /// `spanway.request.metadata.<key>`: the client's own request `metadata` (LiteLLM's), by key.
    public static let requestMetadataPrefix = "spanway.request.metadata."

    // Evaluations: the run and item a request belongs to, and the scores its answer got.
    public static let evalRunID = "spanway.eval.run_id"
    public static let evalItemID = "spanway.eval.item_id"
    public static let evalSample = "spanway.eval.sample"
    /// The OpenTelemetry GenAI event that carries one evaluation's result, on the evaluated span.
    public static let evaluationResultEvent = "gen_ai.evaluation.result"
    public static let evaluationName = "gen_ai.evaluation.name"
    public static let evaluationScoreValue = "gen_ai.evaluation.score.value"
    public static let evaluationExplanation = "gen_ai.evaluation.explanation"
    /// `spanway.eval.score.<scorer>`: a score as a span attribute too, for backends that query
    /// attributes, not events.
    public static func evalScore(_ scorer: String) -> String { "spanway.eval.score." + scorer }
}
