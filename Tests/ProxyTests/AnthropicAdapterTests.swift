import Foundation
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct AnthropicAdapterTests {
    let adapter = AnthropicAdapter()
    let deployment = DeploymentConfig(
        modelName: "claude", provider: "anthropic", model: "claude-sonnet-4-5-20250929", id: "d", apiKey: "sk-ant-secret-key")

    /// Scenario A: thinking plus text, cache reads; values from expected/scenario-a.normalized.json.
    @Test func parsesTheMessageFixture() throws {
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")["anthropic/messages.response.json"])
        var request = try chat(#"{"model":"m","messages":[{"role":"user"}]}"#)
        request.includeReasoning = true
        let reply = try adapter.parseResponse(try Fixture.bytes("anthropic/messages.response.json"), for: request)
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == expected["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue)
        #expect(usage.reasoningTokens == expected["usage"]?["completion_tokens_details"]?["reasoning_tokens"]?.intValue)
        #expect(reply.finishReasons == [expected["finish_reason"]?.stringValue ?? ""])
        let body = try JSONParser.parse(reply.body)
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == expected["content"])
        #expect(body["choices"]?.arrayValue?.first?["message"]?["reasoning_content"] == expected["reasoning_content"])
        request.includeReasoning = false
        let plain = try JSONParser.parse(
            adapter.parseResponse(try Fixture.bytes("anthropic/messages.response.json"), for: request).body)
        #expect(plain["choices"]?.arrayValue?.first?["message"]?["reasoning_content"] == nil)
        #expect(body["usage"]?["total_tokens"]?.intValue == expected["usage"]?["total_tokens"]?.intValue)
        #expect(body["object"] == "chat.completion")
    }

    /// Scenario B fed a byte at a time: text, one tool call (block 1 becomes tool call 0), usage.
    @Test func decodesTheStreamFixtureAtEveryBoundary() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["anthropic/messages.stream.sse"])
        let transcript = try StreamTranscript.decodeBytewise(
            try Fixture.bytes("anthropic/messages.stream.sse"), with: adapter.makeStreamDecoder(for: streamedChat))
        try transcript.expectMatches(expected)
    }

    /// Cache writes are billed apart from plain input: the usage chunk a stream ends with must carry
    /// them, since that chunk is all the gateway reads a streamed answer's usage from.
    @Test func streamedUsageKeepsCacheWrites() throws {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":20,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}

            event: message_stop
            data: {"type":"message_stop"}


            """
        let transcript = try StreamTranscript.decodeBytewise(
            Array(stream.utf8), with: adapter.makeStreamDecoder(for: streamedChat))
        let usage = try #require(transcript.usage)
        #expect(usage["prompt_tokens"] == .int(130) && usage["completion_tokens"] == .int(7))
        #expect(usage["prompt_tokens_details"] == .object(["cached_tokens": .int(20), "cache_creation_tokens": .int(100)]))
        let read = try #require(CanonicalUsage.parse(usage))
        #expect(read == Usage(inputTokens: 130, outputTokens: 7, cacheReadTokens: 20, cacheCreationTokens: 100))
    }

    @Test func midStreamErrorBecomesAnErrorChunk() throws {
        var decoder = adapter.makeStreamDecoder(for: streamedChat)
        let chunks = try decoder.feed(ByteBuffer(bytes: try Fixture.bytes("anthropic/messages.stream-midstream-error.sse")))
        let errors = chunks.compactMap { chunk -> JSONValue? in
            if case .chunk(let object, _) = chunk { return object["error"] }
            return nil
        }
        #expect(errors.first?["code"] == "overloaded_error")
    }

    @Test func errorFixtures() throws {
        let overloaded = adapter.mapError(
            status: 529, headers: [:], body: try Fixture.bytes("anthropic/error.overloaded.json"), deployment: deployment)
        #expect(overloaded.status == 503 && overloaded.isRetryable && overloaded.code == "overloaded_error")
        let tooLong = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("anthropic/error.prompt_too_long.json"), deployment: deployment)
        #expect(tooLong.status == 400 && tooLong.code == "context_length_exceeded" && tooLong.type == "invalid_request_error")
        let leaky = adapter.mapError(
            status: 401, headers: [:],
            body: Array(#"{"type":"error","error":{"type":"authentication_error","message":"bad key sk-ant-secret-key"}}"#.utf8),
            deployment: deployment)
        #expect(leaky.status == 401 && !leaky.message.contains("sk-ant-secret-key"))
    }

    /// The follow-up turn of scenario B, converted to a Messages request.
    @Test func translatesTheConversation() throws {
        let request = try chat(
            #"""
            {"model":"claude","max_tokens":256,"temperature":0.2,"stream":true,
             "messages":[{"role":"system","content":"You are a weather assistant."},
               {"role":"user","content":"What's the weather in Paris right now?"},
               {"role":"assistant","content":"Let me check the current weather in Paris.","tool_calls":[{"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
               {"role":"tool","tool_call_id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","content":"{\"temp_c\":18,\"sky\":\"cloudy\"}"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "tool_choice":"auto"}
            """#)
        let upstream = try adapter.request(for: request, deployment: deployment)
        #expect(upstream.url == "https://api.anthropic.com/v1/messages")
        #expect(
            upstream.headers.first(name: "x-api-key") == "sk-ant-secret-key"
                && upstream.headers.first(name: "anthropic-version") == "2023-06-01")
        let body = try JSONParser.parse(upstream.body)
        #expect(body["model"] == "claude-sonnet-4-5-20250929" && body["max_tokens"]?.intValue == 256 && body["stream"] == true)
        #expect(body["system"] == .array([.object(["type": "text", "text": "You are a weather assistant."])]))
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "user"])
        let toolUse = try #require(messages[1]["content"]?.arrayValue?.last)
        #expect(toolUse["type"] == "tool_use" && toolUse["input"]?["city"] == "Paris")
        #expect(messages[2]["content"]?.arrayValue?.first?["type"] == "tool_result")
        #expect(messages[2]["content"]?.arrayValue?.first?["tool_use_id"] == "toolu_01T1x1fJ34qAmk2tNTrN7Up6")
        #expect(body["tools"]?.arrayValue?.first?["input_schema"]?["required"] == .array(["city"]))
        #expect(body["tool_choice"] == .object(["type": "auto"]))
    }

    @Test func imagesDefaultsAndRefusals() throws {
        let image = try adapter.request(
            for: chat(
                #"{"model":"c","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}"#
            ),
            deployment: DeploymentConfig(
                modelName: "c", provider: "anthropic", model: "m", id: "d", apiBase: "http://127.0.0.1:9/v1"))
        #expect(image.url == "http://127.0.0.1:9/v1/messages")
        let body = try JSONParser.parse(image.body)
        // Messages requires max_tokens: without a client or configured limit the gateway sends 4096.
        #expect(body["max_tokens"]?.intValue == 4096)
        #expect(
            body["messages"]?.arrayValue?.first?["content"]?.arrayValue?.last?["source"]
                == .object(["type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="]))
        let refusals: [(String, String)] = [
            (#"{"model":"c","messages":[{"role":"user","content":"x"}],"seed":1}"#, "seed"),
            (#"{"model":"c","messages":[{"role":"user","content":"x"}],"n":2}"#, "n"),
            (#"{"model":"c","messages":[{"role":"user","content":"x"}],"temperature":1.5}"#, "temperature"),
            (
                #"{"model":"c","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{}}}"#,
                "response_format"
            ),
            (
                #"{"model":"c","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}"#,
                "messages[0].tool_calls[0].function.arguments"
            ),
            (
                #"{"model":"c","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}"#,
                "messages[0].content[0].image_url.url"
            ),
        ]
        for (text, param) in refusals {
            let request = try chat(text)
            do throws(GatewayError) {
                _ = try adapter.request(for: request, deployment: deployment)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.param == param && error.status == 400, "\(text)")
            }
        }
        var lenient = deployment
        lenient.dropParams = true
        let dropped = try JSONParser.parse(
            try adapter.request(
                for: chat(#"{"model":"c","messages":[{"role":"user","content":"x"}],"seed":1,"logit_bias":{"1":2}}"#),
                deployment: lenient
            ).body)
        #expect(dropped["seed"] == nil && dropped["logit_bias"] == nil && dropped["messages"] != nil)
        #expect(throws: GatewayError.self) {
            try adapter.request(
                for: try chat(#"{"model":"c","messages":[{"role":"user","content":"x"}],"n":3}"#), deployment: lenient)
        }
        lenient.maxOutputTokens = 64000
        let limited = try JSONParser.parse(
            try adapter.request(
                for: chat(#"{"model":"c","messages":[{"role":"user","content":"x"}]}"#), deployment: lenient
            ).body)
        #expect(limited["max_tokens"]?.intValue == 64000)
        #expect(throws: GatewayError.self) {
            try adapter.request(
                for: try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"c","input":"x"}"#.utf8)),
                deployment: deployment)
        }
    }

    /// JSON mode goes out as a forced tool and comes back as content, in both reply shapes.
    @Test func jsonModeIsAForcedToolAnsweredAsContent() throws {
        let request = try chat(
            #"""
            {"model":"c","messages":[{"role":"user","content":"x"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"city":{"type":"string"}}}}}}
            """#)
        let body = try JSONParser.parse(try adapter.request(for: request, deployment: deployment).body)
        #expect(body["tool_choice"] == .object(["type": "tool", "name": "json_response"]))
        #expect(body["tools"]?.arrayValue?.last?["input_schema"]?["properties"]?["city"]?["type"] == "string")

        let message = #"""
            {"id":"msg_1","type":"message","role":"assistant","model":"m","stop_reason":"tool_use",
             "content":[{"type":"tool_use","id":"toolu_1","name":"json_response","input":{"city":"Paris"}}],
             "usage":{"input_tokens":10,"output_tokens":5}}
            """#
        let reply = try adapter.parseResponse(Array(message.utf8), for: request)
        let choice = try JSONParser.parse(reply.body)["choices"]?.arrayValue?.first
        #expect(
            try JSONParser.parse(Array((choice?["message"]?["content"]?.stringValue ?? "").utf8)) == .object(["city": "Paris"]))
        #expect(choice?["message"]?["tool_calls"] == nil && reply.finishReasons == ["stop"])

        let stream = #"""
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":10,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"json_response","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}

            event: message_stop
            data: {"type":"message_stop"}


            """#
        let transcript = try StreamTranscript.decodeBytewise(Array(stream.utf8), with: adapter.makeStreamDecoder(for: request))
        #expect(transcript.content == #"{"city": "Paris"}"# && transcript.toolCalls.isEmpty)
        #expect(transcript.finishReason == "stop" && transcript.sawDone)
    }
}
