import Logging
import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

// MARK: - Fixtures

private let start: UInt64 = 1_795_578_148_771_715_000
private let end: UInt64 = start + 1_250_000_000
private let secondAttemptStart: UInt64 = start + 400_000_000

/// A streamed chat request answered by its second attempt after the first got a 503.
private func streamedSuccess() throws -> FinishedSpan {
    let traceID = try #require(TraceID(hex: "0af7651916cd43dd8448eb211c80319c"))
    let serverID = try #require(SpanID(hex: "b7ad6b7169203331"))
    var serverAttributes = Attributes()
    serverAttributes[AttributeName.httpRoute] = .string("/v1/chat/completions")
    var request = Attributes()
    request[AttributeName.operationName] = .string("chat")
    request[AttributeName.providerName] = .string("openai")
    request[AttributeName.requestModel] = .string("gpt-4o-2024-08-06")
    request[AttributeName.requestMaxTokens] = .int(256)
    request[AttributeName.requestTemperature] = .double(0.2)
    request[AttributeName.requestTopP] = .double(0.9)
    request[AttributeName.requestSeed] = .int(7)
    request[AttributeName.requestStopSequences] = .stringArray(["END"])
    request[AttributeName.requestStream] = .bool(true)
    var failedAttributes = request
    failedAttributes[AttributeName.errorType] = .string("503")
    var answered = request
    answered[AttributeName.responseID] = .string("chatcmpl-AbC123")
    answered[AttributeName.responseModel] = .string("gpt-4o-2024-08-06")
    answered[AttributeName.responseTimeToFirstChunk] = .double(0.125)
    answered[AttributeName.usageInputTokens] = .int(1200)
    answered[AttributeName.usageOutputTokens] = .int(300)
    answered[AttributeName.usageCost] = .double(0.00765)
    return FinishedSpanBuilder(
        requestID: "req_b7ad6b71692033311c80319c", traceID: traceID, spanID: serverID, start: start, end: end,
        attributes: serverAttributes
    )
    .attempt(
        name: "chat gpt-4o-2024-08-06", start: start + 10_000_000, end: start + 300_000_000, attributes: failedAttributes,
        status: .error(message: "upstream 503")
    )
    .attempt(name: "chat gpt-4o-2024-08-06", start: secondAttemptStart, end: end - 5_000_000, attributes: answered)
    .summary { summary in
        summary.requestModel = "gpt-4o"
        summary.modelGroup = "gpt-4o"
        summary.deploymentID = "azure-east-1"
        summary.provider = "openai"
        summary.responseModel = "gpt-4o-2024-08-06"
        summary.caller = Caller(keyHash: "ab12", keyAlias: "ci-key", teamID: "team-7", teamAlias: "Search")
        summary.statusCode = 200
        summary.stream = true
        summary.usage = Usage(inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1024, reasoningTokens: 64)
        summary.costUSD = 0.00765
        summary.attempts = 2
        summary.durationSeconds = 1.25
        summary.timeToFirstChunkSeconds = 0.125
        summary.overheadSeconds = 0.0042
        summary.endUser = "end-user-9"
        summary.sessionID = "sess-1"
        summary.tags = ["prod", "search"]
        summary.apiBase = "https://api.openai.com"
        summary.content = CapturedContent(
            input: .array([.object(["role": "user", "content": "Hi"])]),
            output: .array([.object(["role": "assistant", "content": "Hello!"])]))
    }
    .build()
}

/// The same request failing with a 429 after both attempts.
private func failure() throws -> FinishedSpan {
    FinishedSpanBuilder(try streamedSuccess())
        .summary { summary in
            summary.statusCode = 429
            summary.errorType = "rate_limit_exceeded"
            summary.errorMessage = "Rate limit reached for gpt-4o."
            summary.usage = nil
            summary.costUSD = nil
            summary.responseModel = nil
            summary.timeToFirstChunkSeconds = nil
        }
        .eachAttempt { $0.status = .error(message: "429") }
        .build()
}

private func roundTrip(_ value: JSONValue) throws -> JSONValue {
    try JSONParser.parse(value.encoded())
}

// MARK: - StandardLoggingPayload

@Suite struct StandardLoggingPayloadTests {
    /// protocols.md: `call_type` takes LiteLLM's names, `aresponses` and `anthropic_messages`
    /// among them, though both are chats to the GenAI conventions.
    @Test func callTypesAreLiteLLMsNames() {
        #expect(StandardLoggingPayload.callType("chat", route: "/v1/chat/completions") == "acompletion")
        #expect(StandardLoggingPayload.callType("chat", route: nil) == "acompletion")
        #expect(StandardLoggingPayload.callType("chat", route: "/v1/responses") == "aresponses")
        #expect(StandardLoggingPayload.callType("chat", route: "/responses") == "aresponses")
        #expect(StandardLoggingPayload.callType("chat", route: "/v1/messages") == "anthropic_messages")
        #expect(StandardLoggingPayload.callType("text_completion", route: "/v1/completions") == "atext_completion")
        #expect(StandardLoggingPayload.callType("generate_content", route: "/v1/images/generations") == "aimage_generation")
    }

    @Test func successIdentityAndStatus() throws {
        let p = try roundTrip(StandardLoggingPayload.make(try streamedSuccess(), includeContent: false))
        #expect(p["id"]?.stringValue == "chatcmpl-AbC123", "the answering attempt's response id")
        #expect(p["trace_id"]?.stringValue == "0af7651916cd43dd8448eb211c80319c")
        #expect(p["litellm_call_id"]?.stringValue == "req_b7ad6b71692033311c80319c")
        #expect(p["call_type"]?.stringValue == "acompletion")
        #expect(p["stream"]?.boolValue == true)
        #expect(p["status"]?.stringValue == "success")
        #expect(p["status_fields"] == .object(["llm_api_status": "success", "guardrail_status": "not_run"]))
        #expect(p["cache_hit"]?.boolValue == false)
        #expect(p["request_tags"] == .array(["prod", "search"]))
        #expect(p["end_user"]?.stringValue == "end-user-9")
        #expect(p["session_id"]?.stringValue == "sess-1")
        #expect(p["error_str"] == .null && p["error_information"] == .null)
    }

    @Test func modelsProviderAndBase() throws {
        let p = try roundTrip(StandardLoggingPayload.make(try streamedSuccess(), includeContent: false))
        #expect(p["model"]?.stringValue == "gpt-4o")
        #expect(p["model_id"]?.stringValue == "azure-east-1")
        #expect(p["model_group"]?.stringValue == "gpt-4o")
        #expect(p["custom_llm_provider"]?.stringValue == "openai")
        #expect(p["api_base"]?.stringValue == "https://api.openai.com")
    }

    @Test func tokensAndCostComeFromTheSummary() throws {
        let p = try roundTrip(StandardLoggingPayload.make(try streamedSuccess(), includeContent: false))
        #expect(p["prompt_tokens"]?.intValue == 1200, "prompt_tokens include cached tokens, as OpenAI's do")
        #expect(p["completion_tokens"]?.intValue == 300)
        #expect(p["total_tokens"]?.intValue == 1500)
        #expect(p["response_cost"]?.doubleValue == 0.00765)
        #expect(p["cost_breakdown"] == .object(["total_cost": .number("0.00765")]))
        let hidden = try #require(p["hidden_params"])
        #expect(hidden["model_id"]?.stringValue == "azure-east-1")
        #expect(hidden["api_base"]?.stringValue == "https://api.openai.com")
        #expect(hidden["response_cost"]?.doubleValue == 0.00765)
        #expect(hidden["litellm_overhead_time_ms"]?.doubleValue == 0.0042 * 1000)
        #expect(hidden["litellm_model_name"]?.stringValue == "gpt-4o-2024-08-06")
    }

    @Test func timesAreEpochSecondsAsFloats() throws {
        let request = try streamedSuccess()
        let p = try roundTrip(StandardLoggingPayload.make(request, includeContent: false))
        #expect(p["startTime"]?.doubleValue == Double(start) / 1e9)
        #expect(p["endTime"]?.doubleValue == Double(end) / 1e9)
        #expect(abs((p["startTime"]?.doubleValue ?? 0) - 1_795_578_148.771715) < 1e-6)
        #expect(p["completionStartTime"]?.doubleValue == Double(secondAttemptStart) / 1e9 + 0.125)
        #expect(p["response_time"]?.doubleValue == 1.25)
        for key in ["startTime", "endTime", "completionStartTime", "response_time", "response_cost"] {
            guard case .number(let text) = p[key] else {
                Issue.record("\(key) is not a number")
                continue
            }
            #expect(text.contains(".") || text.contains("e"), "\(key) must read as a float: \(text)")
        }
    }

    @Test func completionStartIsTheEndWhenNotStreamed() throws {
        let p = StandardLoggingPayload.make(try streamedSuccess().with { $0.stream = false }, includeContent: false)
        #expect(p["completionStartTime"] == p["endTime"])
        #expect(p["stream"]?.boolValue == false)
    }

    @Test func metadataKeysLikeLiteLLMWithNullsForAbsentValues() throws {
        let p = try roundTrip(StandardLoggingPayload.make(try streamedSuccess(), includeContent: false))
        let metadata = try #require(p["metadata"]?.objectValue)
        #expect(metadata["user_api_key_hash"]?.stringValue == "ab12")
        #expect(metadata["user_api_key_alias"]?.stringValue == "ci-key")
        #expect(metadata["user_api_key_team_id"]?.stringValue == "team-7")
        #expect(metadata["user_api_key_team_alias"]?.stringValue == "Search")
        #expect(metadata["user_api_key_user_id"] == .null)
        #expect(metadata["user_api_key_org_id"] == .null)
        #expect(metadata["team_id"]?.stringValue == "team-7")
        #expect(metadata["team_alias"]?.stringValue == "Search")
        #expect(metadata["user_api_key_request_route"]?.stringValue == "/v1/chat/completions")
        #expect(
            metadata["usage_object"]
                == .object([
                    "prompt_tokens": .int(1200), "completion_tokens": .int(300), "total_tokens": .int(1500),
                    "prompt_tokens_details": .object(["cached_tokens": .int(1024)]),
                    "completion_tokens_details": .object(["reasoning_tokens": .int(64)]),
                ]))
    }

    @Test func modelParametersUnderOpenAINames() throws {
        let p = try roundTrip(StandardLoggingPayload.make(try streamedSuccess(), includeContent: false))
        #expect(
            p["model_parameters"]
                == .object([
                    "max_tokens": .int(256), "temperature": .number("0.2"), "top_p": .number("0.9"),
                    "stop": .array(["END"]), "seed": .int(7), "stream": true,
                ]))
    }

    @Test func contentOnlyWhenAskedFor() throws {
        let request = try streamedSuccess()
        let without = StandardLoggingPayload.make(request, includeContent: false)
        #expect(without["messages"] == .null && without["response"] == .null)
        #expect(!without.encodedString().contains("Hello!"))
        let with = try roundTrip(StandardLoggingPayload.make(request, includeContent: true))
        #expect(with["messages"] == .array([.object(["role": "user", "content": "Hi"])]))
        #expect(with["response"] == .array([.object(["role": "assistant", "content": "Hello!"])]))
    }

    @Test func failureShape() throws {
        let p = try roundTrip(StandardLoggingPayload.make(try failure(), includeContent: false))
        #expect(p["id"]?.stringValue == "req_b7ad6b71692033311c80319c", "no attempt answered: the request id")
        #expect(p["status"]?.stringValue == "failure")
        #expect(p["status_fields"]?["llm_api_status"]?.stringValue == "failure")
        #expect(p["response_cost"] == .number("0.0"))
        #expect(p["cost_breakdown"] == nil)
        #expect(p["prompt_tokens"]?.intValue == 0 && p["completion_tokens"]?.intValue == 0)
        #expect(p["total_tokens"]?.intValue == 0)
        #expect(p["metadata"]?["usage_object"] == .null)
        #expect(p["error_str"]?.stringValue == "Rate limit reached for gpt-4o.")
        #expect(
            p["error_information"]
                == .object([
                    "error_code": "429", "error_class": "RateLimitError", "llm_provider": "openai",
                    "error_message": "Rate limit reached for gpt-4o.",
                ]))
        #expect(p["completionStartTime"] == p["endTime"], "nothing streamed: no first chunk")
        #expect(p["hidden_params"]?["litellm_model_name"] == .null)
        #expect(p["model_parameters"]?["max_tokens"]?.intValue == 256, "parameters of the last attempt")
    }

    @Test func embeddingsOnBedrockUseLiteLLMNames() throws {
        let request = FinishedSpanBuilder(try failure())
            .attempts([])
            .summary { summary in
                summary.operation = "embeddings"
                summary.provider = "aws.bedrock"
                summary.statusCode = 400
                summary.errorType = "context_length_exceeded"
            }
        let p = StandardLoggingPayload.make(request.build(), includeContent: true)
        #expect(p["call_type"]?.stringValue == "aembedding")
        #expect(p["custom_llm_provider"]?.stringValue == "bedrock")
        #expect(p["error_information"]?["error_class"]?.stringValue == "ContextWindowExceededError")
        #expect(p["error_information"]?["llm_provider"]?.stringValue == "bedrock")
        #expect(p["model_parameters"] == .object([:]))
    }

    @Test func errorClassesByStatus() {
        let expected: [(Int, String)] = [
            (400, "BadRequestError"), (401, "AuthenticationError"), (403, "PermissionDeniedError"),
            (404, "NotFoundError"), (408, "Timeout"), (429, "RateLimitError"), (500, "InternalServerError"),
            (502, "BadGatewayError"), (503, "ServiceUnavailableError"), (504, "Timeout"), (499, "APIError"),
        ]
        for (status, name) in expected {
            #expect(StandardLoggingPayload.errorClass(status: status, errorType: nil) == name, "status \(status)")
        }
    }
}

// MARK: - Body formats

@Suite struct WebhookFormatTests {
    let payloads: [JSONValue] = [
        .object(["n": .int(1), "text": "line\nbreak"]), .object(["n": .int(2)]), .object(["n": .int(3)]),
    ]

    @Test func jsonArrayIsOneArrayOfAll() throws {
        let bodies = WebhookFormat.jsonArray.bodies(payloads)
        #expect(bodies.count == 1)
        let parsed = try JSONParser.parse(try #require(bodies.first))
        #expect(parsed.arrayValue?.count == 3)
        #expect(parsed == .array(payloads))
        #expect(WebhookFormat.jsonArray.contentType == "application/json")
    }

    @Test func ndjsonIsOneLinePerPayload() throws {
        let bodies = WebhookFormat.ndjson.bodies(payloads)
        #expect(bodies.count == 1)
        let body = try #require(bodies.first)
        #expect(body.last == UInt8(ascii: "\n"))
        let lines = body.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 3, "a newline inside a string is escaped, not a line break")
        #expect(try lines.map { try JSONParser.parse($0) } == payloads)
        #expect(WebhookFormat.ndjson.contentType == "application/x-ndjson")
    }

    @Test func singleIsOneBodyPerPayload() throws {
        let bodies = WebhookFormat.single.bodies(payloads)
        #expect(bodies.count == 3)
        #expect(try bodies.map { try JSONParser.parse($0) } == payloads)
    }

    @Test func noPayloadsNoBodies() {
        for format in [WebhookFormat.jsonArray, .ndjson, .single] {
            #expect(format.bodies([]).isEmpty)
        }
        #expect(WebhookFormat(rawValue: "json_array") == .jsonArray)
        #expect(WebhookFormat(rawValue: "ndjson") == .ndjson && WebhookFormat(rawValue: "single") == .single)
    }
}

// MARK: - Exporter against a local server

@Suite(.serialized) struct WebhookExporterTests {
    let logger = Logger(label: "test")

    func exporter(
        port: Int, format: WebhookFormat, events: Set<String> = ["llm_api_success", "llm_api_failure"]
    ) -> WebhookExporter {
        WebhookExporter(
            url: "http://127.0.0.1:\(port)/hook", headers: [("x-api-key", "k-123")], format: format, events: events,
            includeContent: false, backoff: Backoff(maxRetries: 0), timeout: .seconds(5), logger: logger)
    }

    @Test func jsonArrayPostsTheBatchOnce() async throws {
        let server = try RecordingHTTPServer(responses: [.ok])
        defer { server.stop() }
        let hook = exporter(port: server.port, format: .jsonArray)
        #expect(await hook.deliver([try streamedSuccess(), try failure()]) == 2)
        let requests = server.requests
        #expect(requests.count == 1)
        let request = try #require(requests.first)
        #expect(request.requestLine == "POST /hook HTTP/1.1")
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("x-api-key") == "k-123")
        let body = try JSONParser.parse(request.body)
        #expect(body.arrayValue?.map { $0["status"]?.stringValue } == ["success", "failure"])
    }

    @Test func ndjsonContentType() async throws {
        let server = try RecordingHTTPServer(responses: [.ok])
        defer { server.stop() }
        #expect(await exporter(port: server.port, format: .ndjson).deliver([try streamedSuccess(), try failure()]) == 2)
        let request = try #require(server.requests.first)
        #expect(request.header("content-type") == "application/x-ndjson")
        #expect(request.body.split(separator: UInt8(ascii: "\n")).count == 2)
    }

    @Test func singlePostsEachRequest() async throws {
        let server = try RecordingHTTPServer(responses: [.ok])
        defer { server.stop() }
        let batch = try (0..<10).map { _ in try streamedSuccess() }
        #expect(await exporter(port: server.port, format: .single).deliver(batch) == 10)
        #expect(server.requests.count == 10)
        #expect(try server.requests.allSatisfy { try JSONParser.parse($0.body)["status"]?.stringValue == "success" })
    }

    @Test func unwantedEventTypesAreSkippedAndCountAsDelivered() async throws {
        let server = try RecordingHTTPServer(responses: [.ok])
        defer { server.stop() }
        let hook = exporter(port: server.port, format: .jsonArray, events: ["llm_api_failure"])
        #expect(await hook.deliver([try streamedSuccess(), try failure(), try streamedSuccess()]) == 3)
        let body = try JSONParser.parse(try #require(server.requests.first).body)
        #expect(body.arrayValue?.count == 1)
        #expect(await hook.deliver([try streamedSuccess()]) == 1)
        #expect(server.requests.count == 1, "nothing to send, nothing sent")
    }

    @Test func failedDeliveryCountsOnlyTheSkipped() async throws {
        let server = try RecordingHTTPServer(responses: [.status(500)])
        defer { server.stop() }
        let hook = exporter(port: server.port, format: .jsonArray, events: ["llm_api_failure"])
        #expect(await hook.deliver([try streamedSuccess(), try failure()]) == 1)
        #expect(hook.failedAttempts == 1)
        let single = exporter(port: server.port, format: .single)
        #expect(await single.deliver([try streamedSuccess(), try failure()]) == 0)
    }
}
