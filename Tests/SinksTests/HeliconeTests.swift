import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

@Suite struct HeliconeLogTests {
    @Test func metaNamesWhoMadeTheRequestAsHeliconeHeaders() throws {
        let request = try FallbackRequestFixture.make()
        let body = HeliconeLog.body(for: request, includeContent: false)
        let meta = try #require(body["providerRequest"]?["meta"]?.objectValue)
        #expect(
            meta.keys == [
                "Helicone-User-Id", "Helicone-Property-Team", "Helicone-Property-TeamId", "Helicone-Property-KeyAlias",
                "Helicone-Property-ModelGroup", "Helicone-Property-Deployment", "Helicone-Property-Provider",
                "Helicone-Session-Id", "Helicone-Request-Id", "Helicone-Model-Override",
            ])
        #expect(meta["Helicone-User-Id"] == .string("alice@example.com"))
        #expect(meta["Helicone-Property-Team"] == .string("Search"))
        #expect(meta["Helicone-Property-TeamId"] == .string("team-42"))
        #expect(meta["Helicone-Property-KeyAlias"] == .string("ci-bot"))
        #expect(meta["Helicone-Property-ModelGroup"] == .string("smart"))
        #expect(meta["Helicone-Property-Deployment"] == .string("azure-west"))
        #expect(meta["Helicone-Property-Provider"] == .string("azure.ai.openai"))
        #expect(meta["Helicone-Session-Id"] == .string("sess-1"))
        #expect(meta["Helicone-Request-Id"] == .string(HeliconeLog.requestID(request.server)))
        #expect(meta["Helicone-Model-Override"] == .string("gpt-4o-2024-08-06"))
        // Every value is a string: Helicone reads meta as request headers.
        #expect(meta.members.allSatisfy { $0.value.stringValue != nil })
        // The key's hash identifies a key; Helicone gets its alias only.
        #expect(!body.encodedString().contains("kh-9f2c"))
    }

    @Test func metaOmitsUnknownFactsAndFallsBackToTeamID() throws {
        let request = FinishedSpanBuilder(requestID: "r", name: "POST", start: 1_000_000_000, end: 2_000_000_000)
            .summary { summary in
                summary.caller = Caller(teamID: "team-9")
                summary.requestModel = "gpt-4o-mini"
                summary.statusCode = 200
            }
        let body = HeliconeLog.body(for: request.build(), includeContent: true)
        let meta = try #require(body["providerRequest"]?["meta"]?.objectValue)
        #expect(
            meta.keys == [
                "Helicone-Property-Team", "Helicone-Property-TeamId", "Helicone-Request-Id", "Helicone-Model-Override",
            ])
        #expect(meta["Helicone-Property-Team"] == .string("team-9"))
        #expect(meta["Helicone-Model-Override"] == .string("gpt-4o-mini"))
        #expect(body["providerRequest"]?["url"] == .string("custom-model-nopath"))
        #expect(body["providerResponse"]?["json"]?["usage"] == nil)
    }

    @Test func timingSplitsSecondsAndTheMillisecondRemainder() throws {
        let request = try FallbackRequestFixture.make()
        let timing = try #require(HeliconeLog.body(for: request, includeContent: false)["timing"])
        // Start 1_795_612_488.123456789 s, end 2.5 s later.
        #expect(timing["startTime"] == .object(["seconds": .number("1795612488"), "milliseconds": .number("123")]))
        #expect(timing["endTime"] == .object(["seconds": .number("1795612490"), "milliseconds": .number("623")]))
        #expect(timing["timeToFirstToken"] == .number("250"))

        let unstreamed = try FallbackRequestFixture.make(stream: false)
        #expect(HeliconeLog.body(for: unstreamed, includeContent: false)["timing"]?["timeToFirstToken"] == nil)
    }

    @Test func requestCarriesModelStreamAndTheLastAttemptsParameters() throws {
        let request = try FallbackRequestFixture.make()
        let body = HeliconeLog.body(for: request, includeContent: false)
        #expect(body["providerRequest"]?["url"] == .string("https://west.openai.azure.com"))
        let json = try #require(body["providerRequest"]?["json"]?.objectValue)
        #expect(json["model"] == .string("smart"))
        #expect(json["stream"] == .bool(true))
        #expect(json["max_tokens"] == .number("256"))
        #expect(json["temperature"]?.doubleValue == 0.7)
        #expect(json["stop"] == .array(["END"]))
        #expect(json["messages"] == nil)
        #expect(!json.keys.contains { $0.hasPrefix("gen_ai") })
    }

    @Test func responseIsOpenAIShapedWithUsageIncludingCachedTokens() throws {
        let request = try FallbackRequestFixture.make()
        let response = try #require(HeliconeLog.body(for: request, includeContent: false)["providerResponse"])
        #expect(response["status"] == .number("200"))
        #expect(response["headers"] == .object([:]))
        let json = try #require(response["json"])
        #expect(json["id"] == .string("chatcmpl-abc123"))
        #expect(json["object"] == .string("chat.completion"))
        #expect(json["model"] == .string("gpt-4o-2024-08-06"))
        let usage = try #require(json["usage"])
        #expect(usage["prompt_tokens"] == .number("1200"))
        #expect(usage["completion_tokens"] == .number("300"))
        #expect(usage["total_tokens"] == .number("1500"))
        #expect(usage["prompt_tokens_details"]?["cached_tokens"] == .number("1000"))
        #expect(usage["completion_tokens_details"]?["reasoning_tokens"] == .number("120"))
        #expect(json["choices"] == nil)
    }

    @Test func contentOnlyWhenAskedFor() throws {
        let request = try FallbackRequestFixture.make()
        let without = HeliconeLog.body(for: request, includeContent: false).encodedString()
        #expect(!without.contains("hello") && !without.contains("hi there"))

        let body = HeliconeLog.body(for: request, includeContent: true)
        #expect(
            body["providerRequest"]?["json"]?["messages"] == .array([.object(["role": "user", "content": "hello"])]))
        let choices = try #require(body["providerResponse"]?["json"]?["choices"]?.arrayValue)
        #expect(
            choices == [
                .object([
                    "index": .number("0"), "message": .object(["role": "assistant", "content": "hi there"]),
                    "finish_reason": "stop",
                ])
            ])
    }

    @Test func failureCarriesTheStatusAndTheErrorTheClientGot() throws {
        let request = try FallbackRequestFixture.make(succeeded: false)
        let response = try #require(HeliconeLog.body(for: request, includeContent: true)["providerResponse"])
        #expect(response["status"] == .number("429"))
        #expect(
            response["json"]
                == .object(["error": .object(["message": "All deployments are rate limited.", "type": "rate_limited"])])
        )
        let meta = HeliconeLog.body(for: request, includeContent: false)["providerRequest"]?["meta"]
        // No answer: Helicone prices by the model the last attempt asked its upstream for, not the group.
        #expect(meta?["Helicone-Model-Override"] == .string("gpt-4o"))
    }

    @Test func requestIDIsAStableLowercaseUUID() throws {
        let request = try FallbackRequestFixture.make()
        let id = HeliconeLog.requestID(request.server)
        #expect(id == "00f067aa-0ba9-42b7-a3ce-929d0e0e4736")
        let groups = id.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        #expect(groups == [8, 4, 4, 4, 12])
        #expect(id.allSatisfy { "0123456789abcdef-".contains($0) })
        #expect(HeliconeLog.requestID(request.server) == id)
        // Another request in the same trace gets another id.
        var sibling = request.server
        sibling.spanID = try #require(SpanID(hex: "0123456789abcdef"))
        #expect(HeliconeLog.requestID(sibling) != id)
    }

    @Test func openAIShapedProvidersUseTheOpenAIRoute() throws {
        #expect(HeliconeLog.path(for: try FallbackRequestFixture.make(provider: "openai")) == "/oai/v1/log")
        #expect(HeliconeLog.path(for: try FallbackRequestFixture.make(provider: "azure.ai.openai")) == "/oai/v1/log")
        #expect(HeliconeLog.path(for: try FallbackRequestFixture.make(provider: "anthropic")) == "/custom/v1/log")
        #expect(HeliconeLog.path(for: try FallbackRequestFixture.make(provider: "aws.bedrock")) == "/custom/v1/log")
    }

    @Test func embeddingsUseInputAndTheListShape() throws {
        let request = FinishedSpanBuilder(requestID: "r", operation: "embeddings", name: "POST", start: 5, end: 6)
            .summary { summary in
                summary.requestModel = "text-embedding-3-small"
                summary.statusCode = 200
                summary.usage = Usage(inputTokens: 8, outputTokens: 0)
                summary.content = CapturedContent(input: .array(["a b c"]), output: nil)
            }
        let body = HeliconeLog.body(for: request.build(), includeContent: true)
        #expect(body["providerRequest"]?["json"]?["input"] == .array(["a b c"]))
        #expect(body["providerRequest"]?["json"]?["messages"] == nil)
        #expect(body["providerResponse"]?["json"]?["object"] == .string("list"))
        #expect(
            body["providerResponse"]?["json"]?["usage"]
                == .object(["prompt_tokens": .number("8"), "total_tokens": .number("8")]))
    }
}
