import Telemetry

/// LiteLLM's `StandardLoggingPayload` (`litellm/types/utils.py`): one JSON object per request, so that
/// receivers written for LiteLLM's `generic_api` callback read Spanway's webhook unchanged.
///
/// Every number comes from the summary or the spans; absent values are `null`, as LiteLLM sends them.
public enum StandardLoggingPayload {
    public static func make(_ request: FinishedSpan, includeContent: Bool) -> JSONValue {
        let s = request.summary
        let answering = request.answering
        let usage = s.usage ?? Usage(inputTokens: 0, outputTokens: 0)
        // LiteLLM reports no cost for a failed call, and 0.0 rather than null when it has none.
        let cost = s.succeeded ? (s.costUSD ?? 0) : 0
        let startTime = seconds(request.server.startNanos)
        let endTime = seconds(request.server.endNanos)
        var completionStart = endTime
        if s.stream, let attempt = answering,
            let ttft = double(attempt.attributes[AttributeName.responseTimeToFirstChunk])
        {
            completionStart = seconds(attempt.startNanos) + ttft
        }

        var payload: JSONObject = [
            "id": .string(answering.flatMap { string($0.attributes[AttributeName.responseID]) } ?? s.requestID),
            "trace_id": .string(request.server.traceID.hex),
            "litellm_call_id": .string(s.requestID),
            "call_type": .string(callType(s.operation, route: string(request.server.attributes[AttributeName.httpRoute]))),
            "stream": .bool(s.stream),
            "status": .string(s.succeeded ? "success" : "failure"),
            "status_fields": .object([
                "llm_api_status": .string(s.succeeded ? "success" : "failure"), "guardrail_status": "not_run",
            ]),
            "response_cost": float(cost),
        ]
        if let total = s.costUSD, s.succeeded { payload["cost_breakdown"] = .object(["total_cost": float(total)]) }
        payload["custom_llm_provider"] = optional(s.provider.map(litellmProvider))
        payload["prompt_tokens"] = .int(usage.inputTokens)
        payload["completion_tokens"] = .int(usage.outputTokens)
        payload["total_tokens"] = .int(usage.totalTokens)
        payload["startTime"] = float(startTime)
        payload["endTime"] = float(endTime)
        payload["completionStartTime"] = float(completionStart)
        payload["response_time"] = float(s.durationSeconds)
        payload["model"] = optional(s.requestModel)
        payload["model_id"] = optional(s.deploymentID)
        payload["model_group"] = optional(s.modelGroup)
        payload["api_base"] = optional(s.apiBase)
        payload["metadata"] = .object(metadata(request))
        payload["cache_hit"] = false
        payload["cache_key"] = .null
        payload["request_tags"] = .array(s.tags.map(JSONValue.string))
        payload["end_user"] = optional(s.endUser)
        payload["session_id"] = optional(s.sessionID)
        payload["messages"] = includeContent ? (s.content?.input ?? .null) : .null
        payload["response"] = includeContent ? (s.content?.output ?? .null) : .null
        if s.succeeded {
            payload["error_str"] = .null
            payload["error_information"] = .null
        } else {
            let message = s.errorMessage ?? "HTTP \(s.statusCode)"
            payload["error_str"] = .string(message)
            payload["error_information"] = .object([
                "error_code": .string(String(s.statusCode)),
                "error_class": .string(errorClass(status: s.statusCode, errorType: s.errorType)),
                "llm_provider": .string(s.provider.map(litellmProvider) ?? ""),
                "error_message": .string(message),
            ])
        }
        payload["model_parameters"] = .object(modelParameters(answering ?? request.attempts.last))
        payload["hidden_params"] = .object([
            "model_id": optional(s.deploymentID), "api_base": optional(s.apiBase), "response_cost": float(cost),
            "litellm_overhead_time_ms": float(s.overheadSeconds * 1000),
            "litellm_model_name": optional(s.responseModel),
        ])
        return .object(payload)
    }

    /// LiteLLM's names for the calls (the proxy makes the async variants). The Responses API and
    /// Anthropic's Messages are chats to the GenAI conventions; LiteLLM names them by their route.
    static func callType(_ operation: String, route: String?) -> String {
        if operation == "chat", let route {
            if route.hasSuffix("/responses") { return "aresponses" }
            if route.hasSuffix("/messages") { return "anthropic_messages" }
        }
        return switch operation {
        case "chat": "acompletion"
        case "embeddings": "aembedding"
        case "text_completion": "atext_completion"
        case "generate_content": "aimage_generation"
        case "audio_transcription": "atranscription"
        case "audio_speech": "aspeech"
        default: "a" + operation
        }
    }

    /// LiteLLM's provider names where they differ from the GenAI conventions' `gen_ai.provider.name`,
    /// so receivers that filter on LiteLLM's names keep working.
    static func litellmProvider(_ genAIName: String) -> String {
        switch genAIName {
        case "aws.bedrock": "bedrock"
        case "gcp.vertex_ai": "vertex_ai"
        case "gcp.gemini": "gemini"
        case "azure.ai.openai": "azure"
        default: genAIName
        }
    }

    /// LiteLLM's exception class for a failure, which receivers group errors by.
    static func errorClass(status: Int, errorType: String?) -> String {
        switch errorType {
        case "context_length_exceeded": return "ContextWindowExceededError"
        case "content_policy_violation": return "ContentPolicyViolationError"
        default: break
        }
        switch status {
        case 400, 413: return "BadRequestError"
        case 401: return "AuthenticationError"
        case 403: return "PermissionDeniedError"
        case 404: return "NotFoundError"
        case 408, 504: return "Timeout"
        case 422: return "UnprocessableEntityError"
        case 429: return "RateLimitError"
        case 500: return "InternalServerError"
        case 502: return "BadGatewayError"
        case 503: return "ServiceUnavailableError"
        default: return "APIError"
        }
    }

    /// `StandardLoggingMetadata`: who called, with `null` for what is not known.
    static func metadata(_ request: FinishedSpan) -> JSONObject {
        let s = request.summary
        let c = s.caller
        var metadata: JSONObject = [
            "user_api_key_hash": optional(c.keyHash), "user_api_key_alias": optional(c.keyAlias),
            "user_api_key_team_id": optional(c.teamID), "user_api_key_team_alias": optional(c.teamAlias),
            "user_api_key_user_id": optional(c.userID), "user_api_key_org_id": optional(c.orgID),
            "user_api_key_end_user_id": optional(s.endUser),
            "user_api_key_request_route": optional(string(request.server.attributes[AttributeName.httpRoute])),
            "team_id": optional(c.teamID), "team_alias": optional(c.teamAlias),
        ]
        if let usage = s.usage {
            metadata["usage_object"] = .object(OpenAIShapes.usage(usage))
        } else {
            metadata["usage_object"] = .null
        }
        // LiteLLM's name for what the client itself put in `metadata`.
        metadata["requester_metadata"] = .object(
            JSONObject(s.requestMetadata.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        return metadata
    }

    /// The request parameters under their OpenAI names, and `stream`.
    static func modelParameters(_ attempt: SpanData?) -> JSONObject {
        var parameters = OpenAIShapes.parameters(of: attempt)
        if let stream = attempt?.attributes[AttributeName.requestStream] { parameters["stream"] = stream.json }
        return parameters
    }

    static func seconds(_ nanos: UInt64) -> Double {
        Double(nanos) / 1e9
    }

    /// A number that reads as a float (`0.0`, not `0`), as LiteLLM's Python floats serialise:
    /// strictly typed receivers would otherwise see an integer where they expect a float.
    static func float(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .number("0.0") }
        let text = "\(value)"
        return .number(text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? text : text + ".0")
    }

    static func optional(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }

    static func string(_ value: AttributeValue?) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    static func double(_ value: AttributeValue?) -> Double? {
        switch value {
        case .double(let number): number
        case .int(let number): Double(number)
        default: nil
        }
    }
}
