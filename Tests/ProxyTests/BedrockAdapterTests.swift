import Foundation
import GatewayTesting
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct BedrockAdapterTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let environmentSecret = "envSecretKeyValue/0123456789abcdefEXAMPLE"
    let adapter = BedrockAdapter(environment: [
        "AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE", "AWS_SECRET_ACCESS_KEY": environmentSecret, "AWS_REGION": "us-west-2",
    ])

    func deployment(_ model: String = "anthropic.claude-3-5-haiku-20241022-v1:0", params: [String: String] = [:])
        -> DeploymentConfig
    {
        var config = DeploymentConfig(modelName: "claude", provider: "bedrock", model: model, id: "d")
        config.providerParams = params
        return config
    }

    /// Scenario A: reasoning plus text, cache reads; values from expected/scenario-a.normalized.json.
    @Test func parsesTheConverseFixture() throws {
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")["bedrock/converse.response.json"])
        let reply = try adapter.parseResponse(
            try Fixture.bytes("bedrock/converse.response.json"),
            for: chat(#"{"model":"claude","messages":[{"role":"user","content":"q"}]}"#))
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.totalTokens == expected["usage"]?["total_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == expected["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue)
        #expect(expected["usage"]?["completion_tokens_details"]?["reasoning_tokens"] == .null && usage.reasoningTokens == 0)
        #expect(reply.finishReasons == [expected["finish_reason"]?.stringValue ?? ""])
        let body = try JSONParser.parse(reply.body)
        #expect(body["object"] == "chat.completion" && body["model"] == "claude")
        #expect(body["id"]?.stringValue?.hasPrefix("chatcmpl-") == true && body["id"]?.stringValue == reply.responseID)
        let choice = try #require(body["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == expected["content"])
        #expect(choice["finish_reason"] == expected["finish_reason"])
        #expect(body["usage"]?["prompt_tokens"] == expected["usage"]?["prompt_tokens"])
        #expect(body["usage"]?["total_tokens"] == expected["usage"]?["total_tokens"])
        #expect(
            body["usage"]?["prompt_tokens_details"]?["cached_tokens"]
                == expected["usage"]?["prompt_tokens_details"]?["cached_tokens"])
        // Not reported by Converse, so not made up.
        #expect(body["usage"]?["completion_tokens_details"] == nil)
    }

    @Test func nonStreamToolUseAndMalformedBodies() throws {
        let request = try chat(#"{"model":"m","messages":[{"role":"user","content":"q"}]}"#)
        let reply = try adapter.parseResponse(
            Array(
                #"""
                {"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city":"Paris"}}}]}},
                 "stopReason":"tool_use","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15,"cacheWriteInputTokens":7},"p":"padding"}
                """#.utf8), for: request)
        let message = try #require(try JSONParser.parse(reply.body)["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == .null)
        #expect(message["tool_calls"]?.arrayValue?.first?["id"] == "tooluse_1")
        #expect(message["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == #"{"city":"Paris"}"#)
        #expect(reply.finishReasons == ["tool_calls"])
        #expect(reply.usage == Usage(inputTokens: 17, outputTokens: 5, cacheCreationTokens: 7))
        for bad in ["", "[]", #"{"output":{}}"#, #"{"output":{"message":{"content":[{"toolUse":{"input":{}}}]}}}"#] {
            do throws(GatewayError) {
                _ = try adapter.parseResponse(Array(bad.utf8), for: request)
                Issue.record("accepted: \(bad)")
            } catch {
                #expect(error.status == 502 && error.code == "bad_upstream_response", "\(bad)")
            }
        }
    }

    @Test func stopReasons() {
        let cases: [(String?, Bool, String)] = [
            ("end_turn", false, "stop"), ("stop_sequence", false, "stop"), ("max_tokens", false, "length"),
            ("model_context_window_exceeded", false, "length"), ("tool_use", true, "tool_calls"),
            ("guardrail_intervened", false, "content_filter"), ("content_filtered", false, "content_filter"),
            ("end_turn", true, "tool_calls"), ("malformed_tool_use", false, "stop"), (nil, false, "stop"),
        ]
        for (reason, sawTool, expected) in cases {
            #expect(BedrockAdapter.finishReason(reason, sawToolCall: sawTool) == expected, "\(reason ?? "nil")")
        }
    }

    /// What a client would rebuild from the chunks.
    struct Aggregate {
        var content = ""
        var arguments = ""
        var name: String?
        var toolID: String?
        var toolIndexes = Set<Int>()
        var finish: String?
        var usage: JSONValue?
        var errors: [JSONValue] = []
        var models = Set<String>()
        var doneCount = 0
        var chunksAfterDone = 0

        init(_ chunks: [StreamChunk]) throws {
            for chunk in chunks {
                guard case .chunk(let object, let raw) = chunk else {
                    doneCount += 1
                    continue
                }
                if doneCount > 0 { chunksAfterDone += 1 }
                #expect(try JSONParser.parse(raw) == .object(object))
                if let error = object["error"] { errors.append(error) }
                if let model = object["model"]?.stringValue { models.insert(model) }
                if let u = object["usage"] {
                    usage = u
                    #expect(object["choices"] == .array([]))
                }
                for choice in object["choices"]?.arrayValue ?? [] {
                    content += choice["delta"]?["content"]?.stringValue ?? ""
                    for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                        toolIndexes.insert(call["index"]?.intValue ?? -1)
                        name = name ?? call["function"]?["name"]?.stringValue
                        toolID = toolID ?? call["id"]?.stringValue
                        arguments += call["function"]?["arguments"]?.stringValue ?? ""
                    }
                    if let reason = choice["finish_reason"]?.stringValue { finish = reason }
                }
            }
        }
    }

    /// Scenario B, fed one byte at a time: text, one tool call (block 1 becomes tool call 0),
    /// finish, then usage from the metadata event after messageStop, then the end.
    @Test func decodesTheStreamFixtureOneByteAtATime() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["bedrock/converse-stream.bin"])
        let request = try chat(#"{"model":"claude","stream":true,"messages":[{"role":"user","content":"q"}]}"#)
        var decoder = adapter.makeStreamDecoder(for: request)
        var chunks: [StreamChunk] = []
        for byte in try Fixture.bytes("bedrock/converse-stream.bin") { chunks += try decoder.feed(ByteBuffer(bytes: [byte])) }
        chunks += try decoder.finish()
        let result = try Aggregate(chunks)
        #expect(result.doneCount == 1 && result.chunksAfterDone == 0)
        #expect(result.errors.isEmpty && result.models == ["claude"])
        #expect(result.content == expected["content"]?.stringValue)
        #expect(result.toolIndexes == [0])
        #expect(result.name == expected["tool_calls"]?.arrayValue?.first?["name"]?.stringValue)
        #expect(result.toolID == "tooluse_zKYC5JkAkJyGX1qwRKlpGG")
        #expect(try JSONParser.parse(result.arguments) == expected["tool_calls"]?.arrayValue?.first?["arguments_json"])
        #expect(result.finish == expected["finish_reason"]?.stringValue)
        for field in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            #expect(result.usage?[field] == expected["usage"]?[field], "\(field)")
        }
    }

    /// An exception frame after content: one OpenAI error chunk, typed like HTTP 429, no end marker.
    @Test func throttlingStreamGivesAnErrorChunk() throws {
        var decoder = adapter.makeStreamDecoder(for: streamedChat)
        var chunks = try decoder.feed(ByteBuffer(bytes: try Fixture.bytes("bedrock/converse-stream.throttling.bin")))
        chunks += try decoder.finish()
        let result = try Aggregate(chunks)
        #expect(result.content == "Let me")
        #expect(result.doneCount == 0)
        let error = try #require(result.errors.first)
        #expect(result.errors.count == 1)
        #expect(error["message"] == "Too many tokens, please wait before trying again.")
        #expect(error["type"] == "rate_limit_exceeded" && error["code"] == "rate_limit_exceeded")
    }

    @Test func corruptOrTruncatedStreamsAreBadUpstreamResponses() throws {
        let bytes = try Fixture.bytes("bedrock/converse-stream.bin")
        let lengths = EventStreamFrame.lengths(bytes)
        var preludeCorrupt = bytes
        preludeCorrupt[8] ^= 0xFF
        var messageCorrupt = bytes
        messageCorrupt[lengths[0] + 50] ^= 0x01  // inside frame 2
        for (corrupt, which) in [(preludeCorrupt, "prelude"), (messageCorrupt, "message")] {
            var decoder = adapter.makeStreamDecoder(for: streamedChat)
            let error = #expect(throws: GatewayError.self) { try decoder.feed(ByteBuffer(bytes: corrupt)) }
            #expect(error?.status == 502 && error?.code == "bad_upstream_response")
            #expect(error?.message.contains("\(which) CRC-32") == true, "\(error?.message ?? "")")
        }
        // Cut inside the last frame.
        var cut = adapter.makeStreamDecoder(for: streamedChat)
        _ = try cut.feed(ByteBuffer(bytes: bytes.dropLast(3)))
        let truncated = #expect(throws: GatewayError.self) { try cut.finish() }
        #expect(truncated?.code == "bad_upstream_response" && truncated?.message.contains("unfinished frame") == true)
        // Cut at a frame boundary before messageStop: no way to tell the answer is complete.
        var early = adapter.makeStreamDecoder(for: streamedChat)
        _ = try early.feed(ByteBuffer(bytes: bytes.prefix(lengths[0] + lengths[1])))
        let unfinished = #expect(throws: GatewayError.self) { try early.finish() }
        #expect(unfinished?.status == 502 && unfinished?.message.contains("messageStop") == true)
        // messageStop without metadata: complete, usage unknown.
        var noMetadata = adapter.makeStreamDecoder(for: streamedChat)
        var chunks = try noMetadata.feed(ByteBuffer(bytes: bytes.dropLast(lengths.last ?? 0)))
        chunks += try noMetadata.finish()
        let result = try Aggregate(chunks)
        #expect(result.finish == "tool_calls" && result.usage == nil && result.doneCount == 1)
    }

    @Test func errorFixtures() throws {
        func map(_ file: String, _ status: Int, _ type: String) throws -> GatewayError {
            var headers = HTTPHeaders()
            headers.add(name: "x-amzn-ErrorType", value: "\(type):http://internal.amazon.com/coral/com.amazon.bedrock/")
            return adapter.mapError(status: status, headers: headers, body: try Fixture.bytes(file), deployment: deployment())
        }
        let throttled = try map("bedrock/error.throttling.json", 429, "ThrottlingException")
        #expect(throttled.status == 429 && throttled.code == "rate_limit_exceeded" && throttled.isRetryable)
        #expect(throttled.type == "rate_limit_exceeded" && throttled.errorType == "ThrottlingException")
        #expect(throttled.message == "Too many requests, please wait before trying again.")
        let tooLong = try map("bedrock/error.validation_too_long.json", 400, "ValidationException")
        #expect(tooLong.status == 400 && tooLong.isContextWindowExceeded && tooLong.type == "invalid_request_error")
        let denied = try map("bedrock/error.access_denied.json", 403, "AccessDeniedException")
        #expect(
            denied.status == 403 && denied.code == "permission_denied" && denied.type == "permission_denied"
                && !denied.isRetryable)

        // Without the header: the body's __type, then code.
        let cases: [(Int, String, Int, String?)] = [
            (
                403,
                #"{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."}"#,
                401, "invalid_api_key"
            ),
            (403, #"{"__type":"InvalidSignatureException","message":"Signature expired"}"#, 401, "invalid_api_key"),
            (
                404, #"{"code":"ResourceNotFoundException","message":"Could not resolve the foundation model"}"#, 404,
                "model_not_found"
            ),
            (424, #"{"__type":"ModelErrorException","message":"The model failed","originalStatusCode":500}"#, 502, "bad_gateway"),
            (408, #"{"__type":"ModelTimeoutException","message":"slow"}"#, 408, "timeout"),
            (400, #"{"__type":"ServiceQuotaExceededException","message":"quota"}"#, 429, "rate_limit_exceeded"),
            (503, #"{"__type":"ServiceUnavailableException","message":"busy"}"#, 503, "overloaded"),
            (500, #"{"__type":"InternalServerException","message":"oops"}"#, 500, "internal_error"),
            (
                400, #"{"__type":"ValidationException","message":"Malformed input request: extraneous key [foo]"}"#, 400,
                "ValidationException"
            ),
            (400, #"{"message":"prompt is too long: 300000 tokens > 200000 maximum"}"#, 400, "context_length_exceeded"),
            (500, "<html>gateway</html>", 500, nil),
        ]
        for (status, body, expectedStatus, code) in cases {
            let error = adapter.mapError(status: status, headers: [:], body: Array(body.utf8), deployment: deployment())
            #expect(error.status == expectedStatus && error.code == code, "\(body)")
        }
        var retry = HTTPHeaders()
        retry.add(name: "retry-after", value: "7")
        #expect(adapter.mapError(status: 429, headers: retry, body: [], deployment: deployment()).headers["retry-after"] == "7")
    }

    /// Neither a configured secret nor one from the environment can come back in an error.
    @Test func errorsNeverCarrySecrets() async throws {
        let configured = deployment(params: [
            "aws_access_key_id": "AKIACONFIG", "aws_secret_access_key": Self.secret, "aws_session_token": "SESSIONTOKEN-XYZ",
        ])
        let echo = #"{"message":"bad: \#(Self.secret) SESSIONTOKEN-XYZ \#(Self.environmentSecret)"}"#
        let error = adapter.mapError(status: 400, headers: [:], body: Array(echo.utf8), deployment: configured)
        #expect(!error.message.contains(Self.secret) && !error.message.contains("SESSIONTOKEN-XYZ"))
        #expect(!error.message.contains(Self.environmentSecret) && error.message.contains("[redacted]"))

        let frame = EventStreamFrame.make(
            headers: [
                (":message-type", 7, [0, 9] + Array("exception".utf8)),
                (":exception-type", 7, [0, 19] + Array("validationException".utf8)),
            ],
            payload: Array(#"{"message":"key \#(Self.environmentSecret) rejected"}"#.utf8))
        var decoder = adapter.makeStreamDecoder(for: streamedChat)
        let chunks = try decoder.feed(ByteBuffer(bytes: frame))
        let streamed = try Aggregate(chunks)
        #expect(streamed.errors.first?["message"]?.stringValue?.contains(Self.environmentSecret) == false)
        #expect(streamed.errors.first?["type"] == "invalid_request_error")

        // A configured key id without its secret is not completed from the environment.
        let halfConfigured = deployment(params: ["aws_access_key_id": "AKIACONFIG", "aws_session_token": "SESSIONTOKEN-XYZ"])
        let upstream = try adapter.request(
            for: chat(#"{"model":"m","messages":[{"role":"user","content":"q"}]}"#), deployment: halfConfigured)
        do throws(GatewayError) {
            _ = try await adapter.prepare(upstream, deployment: halfConfigured, transport: FakeTransport.unreachable())
            Issue.record("signed without a secret")
        } catch {
            #expect(
                error.status == 500 && error.message.contains("no AWS credentials") && !error.message.contains("SESSIONTOKEN-XYZ")
            )
        }
    }

    /// The Converse request field by field: system, merged turns, image, tool use and result, tools,
    /// tool choice, inference config with stop.
    @Test func translatesTheConversation() throws {
        let request = try chat(
            #"""
            {"model":"claude","max_tokens":256,"temperature":0.2,"top_p":0.9,"stop":"END","stream":true,
             "messages":[{"role":"system","content":"You are a weather assistant."},
               {"role":"developer","content":[{"type":"text","text":"Be brief."}]},
               {"role":"user","content":[{"type":"text","text":"What's in this image?"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]},
               {"role":"user","content":"And the weather in Paris?"},
               {"role":"assistant","content":"Let me check.","tool_calls":[{"id":"tooluse_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"tooluse_abc","content":"{\"temp_c\":18}"},
               {"role":"tool","tool_call_id":"tooluse_def","content":"cloudy"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}}}
            """#)
        let upstream = try adapter.request(for: request, deployment: deployment())
        #expect(
            upstream.url
                == "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream"
        )
        #expect(upstream.headers.first(name: "accept") == "application/vnd.amazon.eventstream")
        #expect(upstream.headers.first(name: "content-type") == "application/json")
        #expect(upstream.headers.first(name: "authorization") == nil)
        let body = try JSONParser.parse(upstream.body)
        #expect(body["system"] == .array([.object(["text": "You are a weather assistant."]), .object(["text": "Be brief."])]))
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "user"])
        #expect(
            messages[0]["content"]
                == .array([
                    .object(["text": "What's in this image?"]),
                    .object(["image": .object(["format": "jpeg", "source": .object(["bytes": "/9j/4AAQ"])])]),
                    .object(["text": "And the weather in Paris?"]),
                ]))
        #expect(
            messages[1]["content"]
                == .array([
                    .object(["text": "Let me check."]),
                    .object([
                        "toolUse": .object([
                            "toolUseId": "tooluse_abc", "name": "get_weather", "input": .object(["city": "Paris"]),
                        ])
                    ]),
                ]))
        #expect(
            messages[2]["content"]
                == .array([
                    .object([
                        "toolResult": .object([
                            "toolUseId": "tooluse_abc", "content": .array([.object(["json": .object(["temp_c": .int(18)])])]),
                        ])
                    ]),
                    .object([
                        "toolResult": .object(["toolUseId": "tooluse_def", "content": .array([.object(["text": "cloudy"])])])
                    ]),
                ]))
        #expect(
            body["inferenceConfig"]
                == .object([
                    "maxTokens": .int(256), "temperature": .double(0.2), "topP": .double(0.9), "stopSequences": .array(["END"]),
                ]))
        #expect(
            body["toolConfig"]
                == .object([
                    "tools": .array([
                        .object([
                            "toolSpec": .object([
                                "name": "get_weather", "description": "Current weather",
                                "inputSchema": .object([
                                    "json": .object([
                                        "type": "object", "properties": .object(["city": .object(["type": "string"])]),
                                    ])
                                ]),
                            ])
                        ])
                    ]),
                    "toolChoice": .object(["tool": .object(["name": "get_weather"])]),
                ]))
        #expect(body["stream"] == nil && body["model"] == nil)
    }

    @Test func toolChoicesAndHistoryWithoutTools() throws {
        func toolConfig(_ extra: String, history: Bool = false) throws -> JSONValue? {
            let turns =
                history
                ? #"{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"lookup","arguments":"{}"}}]},{"role":"tool","tool_call_id":"t1","content":"ok"}"#
                : #"{"role":"user","content":"q"}"#
            let upstream = try adapter.request(
                for: chat(#"{"model":"m","messages":[\#(turns)]\#(extra)}"#), deployment: deployment())
            return try JSONParser.parse(upstream.body)["toolConfig"]
        }
        let tools = #","tools":[{"type":"function","function":{"name":"f"}}]"#
        #expect(try toolConfig(tools + #","tool_choice":"auto""#)?["toolChoice"] == .object(["auto": .object([:])]))
        #expect(try toolConfig(tools + #","tool_choice":"required""#)?["toolChoice"] == .object(["any": .object([:])]))
        #expect(try toolConfig(tools)?["toolChoice"] == nil)
        #expect(try toolConfig(tools)?["tools"]?.arrayValue?.first?["toolSpec"]?["inputSchema"]?["json"]?["type"] == "object")
        #expect(try toolConfig(tools + #","tool_choice":"none""#) == nil)
        // Tool blocks in the history need a toolConfig, even with "none" or no tools at all.
        #expect(try toolConfig(tools + #","tool_choice":"none""#, history: true)?["toolChoice"] == nil)
        #expect(try toolConfig("", history: true)?["tools"]?.arrayValue?.first?["toolSpec"]?["name"] == "lookup")
        #expect(try toolConfig("") == nil)
    }

    @Test func refusalsDropParamsAndJSONSchema() throws {
        let refusals: [(String, String)] = [
            (#","seed":1"#, "seed"), (#","n":2"#, "n"), (#","temperature":1.5"#, "temperature"), (#","top_p":2"#, "top_p"),
            (#","presence_penalty":0.5"#, "presence_penalty"), (#","logprobs":true"#, "logprobs"),
            (#","response_format":{"type":"json_object"}"#, "response_format"),
            (#","tools":[{"type":"function"}]"#, "tools[0].function.name"),
        ]
        for (extra, param) in refusals {
            let request = try chat(#"{"model":"m","messages":[{"role":"user","content":"q"}]\#(extra)}"#)
            do throws(GatewayError) {
                _ = try adapter.request(for: request, deployment: deployment())
                Issue.record("accepted: \(extra)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(extra)")
            }
        }
        let messageRefusals: [(String, String)] = [
            (
                #"{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}"#,
                "messages[0].content[0].image_url.url"
            ),
            (
                #"{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}"#,
                "messages[0].content[0].image_url.url"
            ),
            (
                #"{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}"#,
                "messages[0].tool_calls[0].function.arguments"
            ),
            (#"{"role":"tool","content":"x"}"#, "messages[0].tool_call_id"),
            (
                #"{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}"#,
                "messages[0].content[0].type"
            ),
            (#"{"role":"wizard","content":"x"}"#, "messages[0].role"),
        ]
        for (message, param) in messageRefusals {
            let request = try chat(#"{"model":"m","messages":[\#(message)]}"#)
            do throws(GatewayError) {
                _ = try adapter.request(for: request, deployment: deployment())
                Issue.record("accepted: \(message)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(message)")
            }
        }
        var dropping = deployment()
        dropping.dropParams = true
        let dropped = try adapter.request(
            for: chat(
                #"{"model":"m","messages":[{"role":"assistant","content":"hi"}],"seed":1,"n":3,"response_format":{"type":"json_object"}}"#
            ),
            deployment: dropping)
        let body = try JSONParser.parse(dropped.body)
        #expect(body["seed"] == nil && body["outputConfig"] == nil && body["inferenceConfig"] == nil)
        // Converse starts with the user.
        #expect(body["messages"]?.arrayValue?.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant"])
        let schema = try adapter.request(
            for: chat(
                #"{"model":"m","messages":[{"role":"user","content":"q"}],"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"}}}}"#
            ),
            deployment: deployment())
        #expect(
            try JSONParser.parse(schema.body)["outputConfig"]
                == .object([
                    "textFormat": .object([
                        "type": "json_schema",
                        "structure": .object(["jsonSchema": .object(["schema": #"{"type":"object"}"#, "name": "answer"])]),
                    ])
                ]))
    }

    @Test func endpointsRegionsAndKeys() async throws {
        let request = try chat(#"{"model":"m","messages":[{"role":"user","content":"q"}]}"#)
        let arn = "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
        let profile = try adapter.request(for: request, deployment: deployment(arn, params: ["aws_region_name": "eu-central-1"]))
        #expect(
            profile.url
                == "https://bedrock-runtime.eu-central-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aeu-central-1%3A123456789012%3Ainference-profile%2Feu.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"
        )
        let routed = try adapter.request(for: request, deployment: deployment("converse/us.amazon.nova-pro-v1:0"))
        #expect(routed.url == "https://bedrock-runtime.us-west-2.amazonaws.com/model/us.amazon.nova-pro-v1%3A0/converse")
        var custom = deployment()
        custom.apiBase = "http://127.0.0.1:9/"
        #expect(
            try adapter.request(for: request, deployment: custom).url
                == "http://127.0.0.1:9/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse")
        #expect(
            adapter.genAIProviderName == "aws.bedrock"
                && adapter.defaultAPIBase == "https://bedrock-runtime.us-west-2.amazonaws.com")

        // No region anywhere: a configuration error naming the setting.
        let bare = BedrockAdapter(environment: [:])
        do throws(GatewayError) {
            _ = try bare.request(for: request, deployment: deployment())
            Issue.record("no region accepted")
        } catch {
            #expect(error.status == 500 && error.message.contains("aws_region_name"))
        }

        // A Bedrock API key is a bearer token, and the request is not signed.
        var keyed = deployment()
        keyed.apiKey = "bedrock-api-key-value"
        let bearer = try adapter.request(for: request, deployment: keyed)
        #expect(bearer.headers.first(name: "authorization") == "Bearer bedrock-api-key-value")
        let unsigned = try await adapter.prepare(bearer, deployment: keyed, transport: FakeTransport.unreachable())
        #expect(unsigned.headers.first(name: "x-amz-date") == nil)
        #expect(adapter.apiKeyEnvironment == "AWS_BEARER_TOKEN_BEDROCK")
    }

    /// `prepare` signs with the deployment's credentials (else the environment's), after the
    /// gateway's `traceparent` was added, leaving it unsigned.
    @Test func prepareSignsTheFinalRequest() async throws {
        let request = try chat(#"{"model":"m","messages":[{"role":"user","content":"q"}]}"#)
        let configured = deployment(params: [
            "aws_access_key_id": "ASIACONFIG", "aws_secret_access_key": Self.secret, "aws_session_token": "TOKEN-1",
            "aws_region_name": "ap-south-1",
        ])
        let cases: [(DeploymentConfig, String, String, String?)] = [
            (configured, "ASIACONFIG", "ap-south-1", "TOKEN-1"), (deployment(), "AKIAENVEXAMPLE", "us-west-2", nil),
        ]
        for (config, keyID, region, token) in cases {
            var upstream = try adapter.request(for: request, deployment: config)
            upstream.headers.add(name: "traceparent", value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            let signed = try await adapter.prepare(upstream, deployment: config, transport: FakeTransport.unreachable())
            let authorization = try #require(signed.headers.first(name: "authorization"))
            let date = try #require(signed.headers.first(name: "x-amz-date"))
            #expect(date.count == 16 && date.hasSuffix("Z"))
            #expect(
                authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=\(keyID)/\(date.prefix(8))/\(region)/bedrock/aws4_request, ")
            )
            let signedHeaders =
                token == nil ? "content-type;host;x-amz-date" : "content-type;host;x-amz-date;x-amz-security-token"
            #expect(authorization.contains("SignedHeaders=\(signedHeaders),"))
            #expect(signed.headers.first(name: "x-amz-security-token") == token)
            #expect(signed.headers.first(name: "traceparent") != nil && signed.body == upstream.body)
            // The same signature again from the signer itself, at the time it was signed.
            let secret = token == nil ? Self.environmentSecret : Self.secret
            let signer = SigV4Signer(
                credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token), region: region,
                service: "bedrock")
            #expect(signer.signature(for: signed)?.authorization == authorization)
        }
    }

    @Test func embeddingsThroughInvokeModel() throws {
        func embeddings(_ text: String) throws -> OpenAIRequest {
            try OpenAIRequest(operation: .embeddings, bytes: Array(text.utf8))
        }
        let titan = try adapter.request(
            for: embeddings(#"{"model":"e","input":"hello","dimensions":256}"#),
            deployment: deployment("amazon.titan-embed-text-v2:0"))
        #expect(titan.url == "https://bedrock-runtime.us-west-2.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke")
        #expect(try JSONParser.parse(titan.body) == .object(["inputText": "hello", "dimensions": .int(256)]))
        let cohere = try adapter.request(
            for: embeddings(#"{"model":"e","input":["a","b"]}"#), deployment: deployment("us.cohere.embed-v4:0"))
        #expect(try JSONParser.parse(cohere.body) == .object(["texts": .array(["a", "b"]), "input_type": "search_document"]))
        for (model, input) in [
            ("amazon.titan-embed-text-v2:0", #"["a","b"]"#), ("amazon.nova-pro-v1:0", #""a""#),
            ("cohere.embed-english-v3", "[[1,2]]"),
        ] {
            #expect(throws: GatewayError.self) {
                try adapter.request(for: embeddings(#"{"model":"e","input":\#(input)}"#), deployment: deployment(model))
            }
        }

        let titanReply = try adapter.parseResponse(
            Array(#"{"embedding":[0.5,-1.25],"inputTextTokenCount":3}"#.utf8), for: embeddings(#"{"model":"e","input":"hello"}"#))
        let titanBody = try JSONParser.parse(titanReply.body)
        #expect(titanBody["data"]?.arrayValue?.first?["embedding"] == .array([.number("0.5"), .number("-1.25")]))
        #expect(titanBody["usage"]?["prompt_tokens"]?.intValue == 3 && titanReply.usage == Usage(inputTokens: 3, outputTokens: 0))
        #expect(titanBody["object"] == "list" && titanBody["model"] == "e")

        let cohereReply = try adapter.parseResponse(
            Array(#"{"id":"x","embeddings":{"float":[[1],[2]]},"response_type":"embeddings_by_type"}"#.utf8),
            for: embeddings(#"{"model":"e","input":["a","b"],"encoding_format":"base64"}"#))
        let data = try #require(try JSONParser.parse(cohereReply.body)["data"]?.arrayValue)
        #expect(data.map { $0["index"]?.intValue } == [0, 1])
        // base64 of little-endian float32 1.0 and 2.0, as the OpenAI SDKs decode it.
        #expect(data.map { $0["embedding"]?.stringValue } == ["AACAPw==", "AAAAQA=="])
        #expect(cohereReply.usage == nil)
        #expect(throws: GatewayError.self) {
            try adapter.parseResponse(Array(#"{"embeddings":[["x"]]}"#.utf8), for: embeddings(#"{"model":"e","input":"a"}"#))
        }
    }
}
