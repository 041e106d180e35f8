import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// A streamed chat request that failed over: the first attempt (OpenAI) got a 503, the second
/// (Azure) answered with cached, cache-creation and reasoning tokens and a known cost. Times are
/// fixed so timestamps can be checked to the millisecond. Shared by the Langfuse and Helicone tests.
enum FallbackRequestFixture {
    /// 2026-11-25T13:14:48.123456789Z
    static let start: UInt64 = 1_795_612_488_123_456_789
    static let traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let serverHex = "00f067aa0ba902b7"
    static let failedHex = "1111111111111111"
    static let successHex = "2222222222222222"
    static let usage = Usage(
        inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1000, cacheCreationTokens: 50, reasoningTokens: 120)

    static func make(
        stream: Bool = true, succeeded: Bool = true, content: Bool = true, provider: String = "azure.ai.openai",
        apiBase: String? = "https://west.openai.azure.com"
    ) throws -> FinishedSpan {
        let traceID = try #require(TraceID(hex: Substring(traceHex)))
        let serverID = try #require(SpanID(hex: Substring(serverHex)))

        var serverAttributes = Attributes()
        serverAttributes[AttributeName.httpRequestMethod] = .string("POST")
        serverAttributes[AttributeName.requestModel] = .string("smart")
        serverAttributes[AttributeName.modelGroup] = .string("smart")
        var request = FinishedSpanBuilder(
            requestID: "req-1", traceID: traceID, spanID: serverID, start: start, end: start + 2_500_000_000,
            attributes: serverAttributes, status: succeeded ? .unset : .error(message: "All deployments failed"))

        func attempt(_ hex: String, deployment: String, provider: String, model: String) throws -> Attributes {
            var a = Attributes()
            a[AttributeName.operationName] = .string("chat")
            a[AttributeName.providerName] = .string(provider)
            // As the gateway records them: the client asked for "smart", the upstream for `model`.
            a[AttributeName.requestModel] = .string("smart")
            a[AttributeName.upstreamModel] = .string(model)
            a[AttributeName.modelGroup] = .string("smart")
            a[AttributeName.deploymentID] = .string(deployment)
            a[AttributeName.requestMaxTokens] = .int(256)
            a[AttributeName.requestTemperature] = .double(0.7)
            a[AttributeName.requestStopSequences] = .stringArray(["END"])
            if stream { a[AttributeName.requestStream] = .bool(true) }
            a[AttributeName.keyHash] = .string("kh-9f2c")
            return a
        }

        var failedAttributes = try attempt(failedHex, deployment: "openai-east", provider: "openai", model: "gpt-4o")
        failedAttributes[AttributeName.errorType] = .string("upstream_unavailable")
        failedAttributes[AttributeName.httpResponseStatusCode] = .int(503)
        request = request.attempt(
            name: "chat gpt-4o", spanID: try #require(SpanID(hex: Substring(failedHex))), start: start + 10_000_000,
            end: start + 510_000_000, attributes: failedAttributes, status: .error(message: "upstream 503: overloaded"))

        var secondAttributes = try attempt(successHex, deployment: "azure-west", provider: provider, model: "gpt-4o")
        let secondStatus: SpanStatus
        if succeeded {
            if stream { secondAttributes[AttributeName.responseTimeToFirstChunk] = .double(0.25) }
            secondAttributes[AttributeName.responseID] = .string("chatcmpl-abc123")
            secondAttributes[AttributeName.responseModel] = .string("gpt-4o-2024-08-06")
            secondAttributes[AttributeName.responseFinishReasons] = .stringArray(["stop"])
            secondAttributes[AttributeName.usageInputTokens] = .int(1200)
            secondAttributes[AttributeName.usageOutputTokens] = .int(300)
            secondAttributes[AttributeName.usageCost] = .double(0.0123)
            secondStatus = .ok
        } else {
            secondAttributes[AttributeName.errorType] = .string("rate_limited")
            secondStatus = .error(message: "upstream 429: slow down")
        }
        request = request.attempt(
            name: "chat gpt-4o", spanID: try #require(SpanID(hex: Substring(successHex))), start: start + 600_000_000,
            end: start + 2_400_000_000, attributes: secondAttributes, status: secondStatus)

        var summary = request.summary
        summary.requestModel = "smart"
        summary.modelGroup = "smart"
        summary.deploymentID = "azure-west"
        summary.provider = provider
        summary.caller = Caller(
            keyHash: "kh-9f2c", keyAlias: "ci-bot", teamID: "team-42", teamAlias: "Search", userID: "u-7",
            orgID: "org-1")
        summary.stream = stream
        summary.attempts = 2
        summary.durationSeconds = 2.5
        summary.endUser = "alice@example.com"
        summary.sessionID = "sess-1"
        summary.tags = ["prod", "search"]
        summary.apiBase = apiBase
        if succeeded {
            summary.statusCode = 200
            summary.responseModel = "gpt-4o-2024-08-06"
            summary.usage = usage
            summary.costUSD = 0.0123
            if stream { summary.timeToFirstChunkSeconds = 0.25 }
        } else {
            summary.statusCode = 429
            summary.errorType = "rate_limited"
            summary.errorMessage = "All deployments are rate limited."
        }
        if content {
            summary.content = CapturedContent(
                input: .array([.object(["role": "user", "content": "hello"])]),
                output: succeeded ? .array([.object(["role": "assistant", "content": "hi there"])]) : nil)
        }
        request.summary = summary
        return request.build()
    }
}

private func dictionary(_ attributes: [SpanAttribute]) -> [String: AttributeValue] {
    Dictionary(attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
}

private func json(_ value: AttributeValue?) throws -> JSONValue {
    guard case .string(let text) = value else {
        Issue.record("not a string attribute: \(String(describing: value))")
        return .null
    }
    return try JSONParser.parse(text)
}

@Suite struct LangfuseAttributesTests {
    @Test func successfulAttemptCarriesNonCachedUsageCostAndCompletionStart() throws {
        let request = try FallbackRequestFixture.make()
        let attrs = dictionary(LangfuseAttributes.extra(for: request.attempts[1], in: request, includeContent: false))
        let usage = try json(attrs["langfuse.observation.usage_details"])
        // 1200 input include 1000 cached and 50 cache-creation; 300 output include 120 reasoning.
        #expect(usage["input"]?.intValue == 150)
        #expect(usage["output"]?.intValue == 180)
        #expect(usage["total"]?.intValue == 1500)
        #expect(usage["input_cached_tokens"]?.intValue == 1000)
        #expect(usage["input_cache_creation"]?.intValue == 50)
        #expect(usage["output_reasoning_tokens"]?.intValue == 120)
        #expect(try json(attrs["langfuse.observation.cost_details"]) == .object(["total": .number("0.0123")]))
        // Attempt start (…48.123 + 600 ms) plus 250 ms to the first chunk.
        #expect(attrs["langfuse.observation.completion_start_time"] == .string("2026-11-25T13:14:48.973Z"))
        #expect(attrs["langfuse.observation.model.name"] == .string("gpt-4o-2024-08-06"))
        #expect(attrs["langfuse.observation.level"] == nil)
        #expect(attrs["langfuse.observation.type"] == nil)
    }

    @Test func usageWithoutCachedPartsHasNoDetailKeys() throws {
        let details = LangfuseAttributes.usageDetails(Usage(inputTokens: 10, outputTokens: 5))
        #expect(details == .object(["input": .number("10"), "output": .number("5"), "total": .number("15")]))
    }

    @Test func nonStreamedAnswerStartsWhenItEnds() throws {
        let request = try FallbackRequestFixture.make(stream: false)
        let attrs = dictionary(LangfuseAttributes.extra(for: request.attempts[1], in: request, includeContent: false))
        #expect(attrs["langfuse.observation.completion_start_time"] == .string("2026-11-25T13:14:50.523Z"))
    }

    @Test func everySpanCarriesTheTraceFactsAndMetadata() throws {
        let request = try FallbackRequestFixture.make()
        for span in request.spans {
            let attrs = dictionary(LangfuseAttributes.extra(for: span, in: request, includeContent: false))
            #expect(attrs["langfuse.user.id"] == .string("alice@example.com"))
            #expect(attrs["langfuse.session.id"] == .string("sess-1"))
            #expect(attrs["langfuse.trace.tags"] == .stringArray(["prod", "search"]))
            #expect(attrs["langfuse.trace.name"] == .string("smart"))
            let expected: [String: String] = [
                "key_alias": "ci-bot", "key_hash": "kh-9f2c", "team_id": "team-42", "team_alias": "Search",
                "user_id": "u-7", "org_id": "org-1", "model_group": "smart", "deployment_id": "azure-west",
                "provider": "azure.ai.openai", "request_id": "req-1",
            ]
            for (key, value) in expected {
                #expect(attrs["langfuse.trace.metadata.\(key)"] == .string(value), "trace metadata \(key)")
            }
            let observationKeys = Set(attrs.keys.filter { $0.hasPrefix("langfuse.observation.metadata.") })
            #expect(observationKeys == Set(expected.keys.map { "langfuse.observation.metadata.\($0)" }))
        }
        // An attempt's routing metadata is its own: the first went to another deployment.
        let failed = dictionary(LangfuseAttributes.extra(for: request.attempts[0], in: request, includeContent: false))
        #expect(failed["langfuse.observation.metadata.deployment_id"] == .string("openai-east"))
        #expect(failed["langfuse.observation.metadata.provider"] == .string("openai"))
        #expect(failed["langfuse.trace.metadata.deployment_id"] == .string("azure-west"))
    }

    @Test func onlyKnownFactsAppear() throws {
        let request = FinishedSpanBuilder(requestID: "r", operation: "embeddings", name: "POST /v1/embeddings", start: 1, end: 2)
            .summary { $0.caller = Caller(userID: "u-1") }
            .build()
        let attrs = dictionary(LangfuseAttributes.extra(for: request.server, in: request, includeContent: true))
        #expect(attrs["langfuse.user.id"] == .string("u-1"))  // no end user: the key's user
        #expect(attrs["langfuse.session.id"] == nil && attrs["langfuse.trace.tags"] == nil)
        #expect(attrs["langfuse.trace.name"] == .string("embeddings"))
        #expect(
            Set(attrs.keys.filter { $0.contains(".metadata.") }) == [
                "langfuse.trace.metadata.user_id", "langfuse.trace.metadata.request_id",
                "langfuse.observation.metadata.user_id", "langfuse.observation.metadata.request_id",
            ])
    }

    @Test func serverSpanIsAPlainSpanWithoutUsage() throws {
        let request = try FallbackRequestFixture.make()
        let attrs = dictionary(LangfuseAttributes.extra(for: request.server, in: request, includeContent: false))
        #expect(attrs["langfuse.observation.type"] == .string("span"))
        for key in [
            "langfuse.observation.usage_details", "langfuse.observation.cost_details",
            "langfuse.observation.completion_start_time", "langfuse.observation.model.name",
            "langfuse.observation.input", "langfuse.trace.input",
        ] {
            #expect(attrs[key] == nil, "\(key)")
        }
    }

    @Test func failedAttemptIsAnErrorWithItsMessageAndNoUsage() throws {
        let request = try FallbackRequestFixture.make()
        let attrs = dictionary(LangfuseAttributes.extra(for: request.attempts[0], in: request, includeContent: true))
        #expect(attrs["langfuse.observation.level"] == .string("ERROR"))
        #expect(attrs["langfuse.observation.status_message"] == .string("upstream 503: overloaded"))
        #expect(attrs["langfuse.observation.usage_details"] == nil)
        #expect(attrs["langfuse.observation.cost_details"] == nil)
        #expect(attrs["langfuse.observation.input"] == nil)
    }

    @Test func contentOnlyWhenAskedForAndOnlyOnTheAnsweringAttempt() throws {
        let request = try FallbackRequestFixture.make()
        let without = dictionary(LangfuseAttributes.extra(for: request.attempts[1], in: request, includeContent: false))
        #expect(without["langfuse.observation.input"] == nil && without["langfuse.observation.output"] == nil)

        let with = dictionary(LangfuseAttributes.extra(for: request.attempts[1], in: request, includeContent: true))
        #expect(
            try json(with["langfuse.observation.input"]) == .array([.object(["role": "user", "content": "hello"])]))
        #expect(
            try json(with["langfuse.observation.output"])
                == .array([.object(["role": "assistant", "content": "hi there"])]))
        let server = dictionary(LangfuseAttributes.extra(for: request.server, in: request, includeContent: true))
        #expect(server["langfuse.observation.input"] == nil)
        #expect(try json(server["langfuse.trace.input"]) == .array([.object(["role": "user", "content": "hello"])]))

        let uncaptured = try FallbackRequestFixture.make(content: false)
        let none = dictionary(
            LangfuseAttributes.extra(for: uncaptured.attempts[1], in: uncaptured, includeContent: true))
        #expect(none["langfuse.observation.input"] == nil)
    }

    @Test func failedRequestHasNoUsageAnywhere() throws {
        let request = try FallbackRequestFixture.make(succeeded: false)
        for span in request.spans {
            let attrs = dictionary(LangfuseAttributes.extra(for: span, in: request, includeContent: true))
            #expect(attrs["langfuse.observation.usage_details"] == nil)
            #expect(attrs["langfuse.observation.output"] == nil)
        }
        let last = dictionary(LangfuseAttributes.extra(for: request.attempts[1], in: request, includeContent: false))
        #expect(last["langfuse.observation.status_message"] == .string("upstream 429: slow down"))
    }
}

@Suite struct LangfuseCredentialsTests {
    @Test func basicAuthAndURLsTolerateATrailingSlash() {
        let credentials = LangfuseCredentials(
            host: "https://lf.example.com/", publicKey: "pk-lf-1", secretKey: "sk-lf-2")
        #expect(credentials.authorization == "Basic cGstbGYtMTpzay1sZi0y")
        #expect(credentials.otlpTracesURL == "https://lf.example.com/api/public/otel/v1/traces")
        #expect(credentials.ingestionURL == "https://lf.example.com/api/public/ingestion")
        let bare = LangfuseCredentials(publicKey: "pk", secretKey: "sk")
        #expect(bare.ingestionURL == "https://cloud.langfuse.com/api/public/ingestion")
    }

    @Test func descriptionNeverShowsTheSecretKey() {
        let credentials = LangfuseCredentials(
            host: "https://lf.example.com", publicKey: "pk-lf-1", secretKey: "sk-lf-2")
        #expect(!"\(credentials)".contains("sk-lf-2"))
        #expect(!String(reflecting: credentials).contains("sk-lf-2"))
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(!dumped.contains("sk-lf-2") && dumped.contains("pk-lf-1"))
    }
}

@Suite struct LangfuseIngestionTests {
    @Test func oneTraceAndOneGenerationPerAttemptWithStableUniqueIDs() throws {
        let request = try FallbackRequestFixture.make()
        let events = LangfuseIngestion.events(for: request, includeContent: false)
        #expect(events.map { $0["type"]?.stringValue } == ["trace-create", "generation-create", "generation-create"])
        let ids = events.compactMap { $0["id"]?.stringValue }
        #expect(
            ids == [
                "00f067aa0ba902b7-trace-create", "1111111111111111-generation-create",
                "2222222222222222-generation-create",
            ])
        #expect(Set(ids).count == 3)
        // Built again (a retry), the events are byte for byte the same, so Langfuse dedups them.
        #expect(LangfuseIngestion.events(for: request, includeContent: false) == events)
        #expect(events[0]["timestamp"] == .string("2026-11-25T13:14:50.623Z"))
        #expect(events[0]["body"]?["id"] == .string(FallbackRequestFixture.traceHex))
        #expect(events[1]["body"]?["id"] == .string(FallbackRequestFixture.failedHex))
        #expect(events[2]["body"]?["id"] == .string(FallbackRequestFixture.successHex))
        #expect(events[1]["body"]?["traceId"] == .string(FallbackRequestFixture.traceHex))
    }

    @Test func traceBodyNamesWhoAndWhat() throws {
        let request = try FallbackRequestFixture.make()
        let trace = try #require(LangfuseIngestion.events(for: request, includeContent: false)[0]["body"])
        #expect(trace["timestamp"] == .string("2026-11-25T13:14:48.123Z"))
        #expect(trace["name"] == .string("smart"))
        #expect(trace["userId"] == .string("alice@example.com"))
        #expect(trace["sessionId"] == .string("sess-1"))
        #expect(trace["tags"] == .array(["prod", "search"]))
        let metadata = try #require(trace["metadata"]?.objectValue)
        #expect(
            metadata.keys == [
                "key_alias", "key_hash", "team_id", "team_alias", "user_id", "org_id", "model_group", "deployment_id",
                "provider", "request_id",
            ])
        #expect(metadata["team_id"] == .string("team-42"))
        #expect(trace["input"] == nil && trace["output"] == nil)

        let withContent = try #require(LangfuseIngestion.events(for: request, includeContent: true)[0]["body"])
        #expect(withContent["input"] == .array([.object(["role": "user", "content": "hello"])]))
        #expect(withContent["output"] == .array([.object(["role": "assistant", "content": "hi there"])]))
    }

    @Test func generationBodiesCarryTimesUsageCostAndErrors() throws {
        let request = try FallbackRequestFixture.make()
        let events = LangfuseIngestion.events(for: request, includeContent: false)
        let failed = try #require(events[1]["body"])
        #expect(failed["name"] == .string("chat gpt-4o"))
        #expect(failed["startTime"] == .string("2026-11-25T13:14:48.133Z"))
        #expect(failed["endTime"] == .string("2026-11-25T13:14:48.633Z"))
        #expect(failed["level"] == .string("ERROR"))
        #expect(failed["statusMessage"] == .string("upstream 503: overloaded"))
        #expect(failed["usageDetails"] == nil && failed["costDetails"] == nil)
        #expect(failed["completionStartTime"] == nil)
        #expect(failed["metadata"]?["deployment_id"] == .string("openai-east"))
        #expect(failed["metadata"]?["error_type"] == .string("upstream_unavailable"))
        // No answer to name the model: Langfuse prices by what the upstream was asked for, not the group.
        #expect(failed["model"] == .string("gpt-4o"))

        let answered = try #require(events[2]["body"])
        #expect(answered["startTime"] == .string("2026-11-25T13:14:48.723Z"))
        #expect(answered["endTime"] == .string("2026-11-25T13:14:50.523Z"))
        #expect(answered["completionStartTime"] == .string("2026-11-25T13:14:48.973Z"))
        #expect(answered["model"] == .string("gpt-4o-2024-08-06"))
        #expect(answered["level"] == nil)
        let usage = try #require(answered["usageDetails"])
        #expect(usage["input"]?.intValue == 150 && usage["output"]?.intValue == 180 && usage["total"]?.intValue == 1500)
        #expect(usage["input_cached_tokens"]?.intValue == 1000)
        #expect(usage["output_reasoning_tokens"]?.intValue == 120)
        #expect(answered["costDetails"]?["total"]?.doubleValue == 0.0123)
        let parameters = try #require(answered["modelParameters"])
        #expect(parameters["max_tokens"] == .number("256"))
        #expect(parameters["temperature"]?.doubleValue == 0.7)
        #expect(parameters["stream"] == .bool(true))
        #expect(parameters["stop_sequences"] == .array(["END"]))
        #expect(parameters["model"] == nil)
        #expect(answered["metadata"]?["finish_reasons"] == .array(["stop"]))
        #expect(answered["input"] == nil)

        let withContent = try #require(LangfuseIngestion.events(for: request, includeContent: true)[2]["body"])
        #expect(withContent["output"] == .array([.object(["role": "assistant", "content": "hi there"])]))
        #expect(LangfuseIngestion.events(for: request, includeContent: true)[1]["body"]?["input"] == nil)
    }

    @Test func multiStatusSeparatesRetryableFromFinalErrors() throws {
        let answer = #"""
            {"successes":[{"id":"a","status":201}],
             "errors":[{"id":"b","status":429,"message":"slow"},{"id":"c","status":500},
                       {"id":"d","status":400,"message":"bad"},{"id":"e","status":404},{"id":"f"}]}
            """#
        let verdict = try #require(LangfuseIngestion.MultiStatus.parse(Array(answer.utf8)))
        #expect(verdict.successes == ["a"])
        #expect(verdict.errors.map(\.id) == ["b", "c", "d", "e", "f"])
        #expect(verdict.errors.map(\.isRetryable) == [true, true, false, false, true])
        #expect(verdict.errors[2].message == "bad")
        #expect(LangfuseIngestion.MultiStatus.parse(Array("ok".utf8)) == nil)
        #expect(LangfuseIngestion.MultiStatus.parse(Array("{}".utf8)) == nil)
    }

    @Test func batchesSplitUnderTheSizeLimitInOrder() throws {
        let events = (0..<10).map { i in
            LangfuseIngestion.Event(
                id: "e\(i)", request: i / 2,
                bytes: JSONValue.object(["id": .string("e\(i)"), "pad": .string(String(repeating: "x", count: 80))])
                    .encoded())
        }
        let limit = 300
        let groups = LangfuseIngestion.split(events, maxBytes: limit)
        #expect(groups.count > 1)
        #expect(groups.flatMap { $0.map(\.id) } == events.map(\.id))
        for group in groups {
            let body = LangfuseIngestion.body(group)
            #expect(body.count <= limit)
            #expect(try JSONParser.parse(body)["batch"]?.arrayValue?.count == group.count)
        }
        #expect(LangfuseIngestion.split(events).count == 1)

        // An event bigger than the limit travels alone rather than being dropped.
        let huge = LangfuseIngestion.Event(
            id: "big", request: 0, bytes: Array(repeating: UInt8(ascii: "1"), count: 500))
        let withHuge = LangfuseIngestion.split([events[0], huge, events[1]], maxBytes: limit)
        #expect(withHuge.map { $0.map(\.id) } == [["e0"], ["big"], ["e1"]])

        // A request's real events stay well under the documented limit.
        let body = LangfuseIngestion.body(
            LangfuseIngestion.encodedEvents([try FallbackRequestFixture.make()], includeContent: true))
        #expect(body.count < LangfuseIngestion.maxBatchBytes)
        #expect(try JSONParser.parse(body)["batch"]?.arrayValue?.count == 3)
    }
}

/// The event-level delivery logic, driven by a scripted destination.
@Suite struct LangfuseIngestionDeliveryTests {
    actor Destination {
        var answers: [LangfuseIngestion.PostResult]
        var received: [[String]] = []

        init(_ answers: [LangfuseIngestion.PostResult]) { self.answers = answers }

        func post(_ body: [UInt8]) -> LangfuseIngestion.PostResult {
            let ids = (try? JSONParser.parse(body))?["batch"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            received.append(ids)
            return answers.isEmpty ? .answered(status: 200, body: []) : answers.removeFirst()
        }
    }

    static func multiStatus(errors: [(String, Int)]) -> LangfuseIngestion.PostResult {
        let list = errors.map { JSONValue.object(["id": .string($0.0), "status": .int($0.1)]) }
        return .answered(
            status: 207, body: JSONValue.object(["successes": .array([]), "errors": .array(list)]).encoded())
    }

    func batch() throws -> [FinishedSpan] {
        // Two requests of three events each.
        [try FallbackRequestFixture.make(), try FallbackRequestFixture.make(succeeded: false)]
    }

    @Test func retryableRefusalsAreResentAndFinalOnesLoseTheirRequest() async throws {
        let spans = try batch()
        // The failed request again, with no attempts and another server span: one event of its own.
        let second = FinishedSpanBuilder(
            name: "POST", traceID: .random(), spanID: try #require(SpanID(hex: "3333333333333333")),
            start: spans[1].server.startNanos, end: spans[1].server.endNanos
        )
        .summary { $0 = spans[1].summary }
        .build()
        let events = LangfuseIngestion.encodedEvents([spans[0], second], includeContent: false)
        #expect(events.count == 4)
        let destination = Destination([
            Self.multiStatus(errors: [
                ("1111111111111111-generation-create", 503), ("3333333333333333-trace-create", 400),
            ]),
            .answered(
                status: 207,
                body: Array(
                    #"{"successes":[{"id":"1111111111111111-generation-create","status":201}],"errors":[]}"#.utf8)),
        ])
        var pauses: [Int] = []
        let result = await LangfuseIngestion.deliver(
            events, requests: 2, maxRetries: 3, post: { await destination.post($0) },
            pause: {
                pauses.append($0)
                return true
            })
        #expect(result.delivered == 1)
        #expect(result.partialFailures == 1)
        #expect(pauses == [1])
        let received = await destination.received
        #expect(received.count == 2)
        #expect(received[1] == ["1111111111111111-generation-create"])
    }

    @Test func retriesStopAtTheLimitOrAtShutdown() async throws {
        let events = LangfuseIngestion.encodedEvents(try batch(), includeContent: false)
        let refusal = Self.multiStatus(errors: [("00f067aa0ba902b7-trace-create", 500)])
        let always = Destination(Array(repeating: refusal, count: 10))
        let limited = await LangfuseIngestion.deliver(
            events, requests: 2, maxRetries: 2, post: { await always.post($0) }, pause: { _ in true })
        // Both requests share the server span id here, so both trace-create events are refused.
        #expect(limited.delivered == 0)
        #expect(await always.received.count == 3)

        let stopping = Destination(Array(repeating: refusal, count: 10))
        let stopped = await LangfuseIngestion.deliver(
            events, requests: 2, maxRetries: 5, post: { await stopping.post($0) }, pause: { _ in false })
        #expect(stopped.delivered == 0)
        #expect(await stopping.received.count == 1)
    }

    @Test func plainSuccessTakesEverythingAndFailureNothing() async throws {
        let events = LangfuseIngestion.encodedEvents(try batch(), includeContent: false)
        let ok = Destination([.answered(status: 200, body: Array("{}".utf8))])
        #expect(
            await LangfuseIngestion.deliver(
                events, requests: 2, maxRetries: 3, post: { await ok.post($0) }, pause: { _ in true }
            ).delivered == 2)
        let down = Destination([.failed])
        #expect(
            await LangfuseIngestion.deliver(
                events, requests: 2, maxRetries: 3, post: { await down.post($0) }, pause: { _ in true }
            ).delivered == 0)

        // Split across two POSTs: the request whose events all went in the failed POST is lost.
        let split = Destination([.answered(status: 200, body: []), .failed])
        let sizes = LangfuseIngestion.split(events, maxBytes: events[0..<3].reduce(12) { $0 + $1.bytes.count + 1 })
        #expect(sizes.count >= 2 && sizes[0].count == 3)
        let result = await LangfuseIngestion.deliver(
            events, requests: 2, maxBytes: events[0..<3].reduce(12) { $0 + $1.bytes.count + 1 }, maxRetries: 3,
            post: { await split.post($0) }, pause: { _ in true })
        #expect(result.delivered == 1)
    }
}
