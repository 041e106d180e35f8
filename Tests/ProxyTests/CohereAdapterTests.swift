import Foundation
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct CohereAdapterTests {
    let adapter = CohereAdapter()
    let deployment = DeploymentConfig(
        modelName: "command", provider: "cohere", model: "command-a-03-2025", id: "d", apiKey: "co-secret-key-123")

    func refusal(_ text: String, dropParams: Bool = false) throws -> GatewayError? {
        try adapter.refusal(text, deployment: deployment, dropParams: dropParams)
    }

    /// Scenario A: thinking plus text; `tokens` (not `billed_units`) as usage; cached tokens.
    @Test func parsesTheChatFixture() throws {
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")["cohere/chat.response.json"])
        var request = try chat(#"{"model":"command","messages":[{"role":"user","content":"What is the capital of France?"}]}"#)
        request.includeReasoning = true
        let reply = try adapter.parseResponse(
            try Fixture.bytes("cohere/chat.response.json"), for: request)
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.totalTokens == expected["usage"]?["total_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == expected["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue)
        #expect(reply.finishReasons == [try #require(expected["finish_reason"]?.stringValue)])
        #expect(reply.responseID == "c14c80c3-18eb-4519-9460-6c92edd8cfb4")
        let body = try JSONParser.parse(reply.body)
        let message = body["choices"]?.arrayValue?.first?["message"]
        #expect(body["object"] == "chat.completion" && body["model"] == "command")
        #expect(message?["content"] == expected["content"])
        #expect(message?["reasoning_content"] == expected["reasoning_content"])
        #expect(body["choices"]?.arrayValue?.first?["finish_reason"] == expected["finish_reason"])
        for field in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            #expect(body["usage"]?[field] == expected["usage"]?[field], "\(field)")
        }
        #expect(body["usage"]?["prompt_tokens_details"] == expected["usage"]?["prompt_tokens_details"])
        // Cohere reports no reasoning count: the detail is left out rather than said to be 0.
        #expect(expected["usage"]?["completion_tokens_details"]?["reasoning_tokens"] == .null)
        #expect(body["usage"]?["completion_tokens_details"] == nil)

        // Without the opt-in, thinking text is not sent to the client.
        request.includeReasoning = false
        let plain = try JSONParser.parse(adapter.parseResponse(try Fixture.bytes("cohere/chat.response.json"), for: request).body)
        #expect(plain["choices"]?.arrayValue?.first?["message"]?["reasoning_content"] == nil)
    }

    /// Scenario B fed one byte at a time: the tool plan is the content, one tool call, usage.
    @Test func decodesTheStreamFixtureByteByByte() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["cohere/chat.stream.sse"])
        let bytes = try Fixture.bytes("cohere/chat.stream.sse")
        let transcript = try StreamTranscript(
            StreamTranscript.chunksBytewise(bytes, with: adapter.makeStreamDecoder(for: streamedChat)))
        try transcript.expectMatches(expected)
        #expect(transcript.toolCalls[0]?.id == "get_weather_i5qudzp52yu2")
        #expect(transcript.usage?["prompt_tokens_details"]?["cached_tokens"]?.intValue == 0)

        var whole = adapter.makeStreamDecoder(for: streamedChat)
        let chunks = try whole.feed(ByteBuffer(bytes: bytes)) + whole.finish()
        let first = try #require(chunks.first)
        guard case .chunk(let role, _) = first else { throw Unexpected.chunk }
        #expect(role["id"] == "5a7d1c2e-8f3b-4e6a-9d0c-1b2a3c4d5e6f")
        #expect(role["choices"]?.arrayValue?.first?["delta"]?["role"] == "assistant")
        try StreamTranscript(chunks).expectMatches(expected)
    }

    @Test func streamEdgeCases() throws {
        func decode(_ events: [String]) throws -> [StreamChunk] {
            var decoder = adapter.makeStreamDecoder(for: streamedChat)
            let text = events.map { "data: \($0)\n\n" }.joined()
            return try decoder.feed(ByteBuffer(string: text)) + decoder.finish()
        }
        // A failed generation: an OpenAI-shaped error event and no [DONE].
        let failed = try StreamTranscript(
            decode([
                #"{"type":"message-start","id":"x","delta":{"message":{"role":"assistant"}}}"#,
                #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hel"}}}}"#,
                #"{"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal failure"}}"#,
            ]))
        #expect(failed.content == "Hel" && !failed.sawDone && failed.errors.count == 1)
        #expect(
            failed.errors.first?["type"] == "api_error"
                && failed.errors.first?["message"]?.stringValue?.contains("internal failure") == true)
        // ERROR with nothing produced is an error, not an empty answer.
        let empty = try StreamTranscript(decode([#"{"type":"message-end","delta":{"finish_reason":"ERROR"}}"#]))
        #expect(!empty.sawDone && empty.errors.first?["code"] == "upstream_unavailable")
        // A call whose arguments never came gets "{}"; MAX_TOKENS is length; [DONE] after the end is ignored.
        let bare = try StreamTranscript(
            decode([
                #"{"type":"tool-call-start","index":3,"delta":{"message":{"tool_calls":{"id":"t1","type":"function","function":{"name":"now","arguments":""}}}}}"#,
                #"{"type":"tool-call-end","index":3}"#,
                #"{"type":"message-end","delta":{"finish_reason":"MAX_TOKENS","usage":{"billed_units":{"input_tokens":5,"output_tokens":7}}}}"#,
                "[DONE]",
            ]))
        #expect(bare.sawDone && bare.afterDone == 0 && bare.toolCalls[0]?.arguments == "{}" && bare.toolCalls[0]?.name == "now")
        #expect(
            bare.finishReason == "length" && bare.usage?["prompt_tokens"]?.intValue == 5
                && bare.usage?["total_tokens"]?.intValue == 12)
        // Thinking deltas become reasoning_content only with the opt-in.
        let thinkingEvent =
            "data: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"thinking\":\"hmm\"}}}}\n\n"
        var optIn = try chat(#"{"model":"command","messages":[{"role":"user","content":"x"}]}"#)
        optIn.includeReasoning = true
        var opted = adapter.makeStreamDecoder(for: optIn)
        #expect(try StreamTranscript(opted.feed(ByteBuffer(string: thinkingEvent))).reasoning == "hmm")
        var plain = adapter.makeStreamDecoder(for: streamedChat)
        #expect(try StreamTranscript(plain.feed(ByteBuffer(string: thinkingEvent))).reasoning == "")
    }

    @Test func malformedAndTruncatedAnswersAreBadUpstreamResponses() throws {
        let request = try chat(#"{"model":"command","messages":[{"role":"user","content":"x"}]}"#)
        let fixture = try Fixture.bytes("cohere/chat.response.json")
        let bodies: [[UInt8]] = [
            Array("<html>bad gateway</html>".utf8), Array(fixture[..<(fixture.count / 2)]), Array(#"{"id":"x"}"#.utf8),
            Array(#"{"message":{"tool_calls":[{"id":"t","function":{}}]}}"#.utf8),
            Array(#"{"finish_reason":"ERROR","message":{"role":"assistant","content":[]}}"#.utf8),
        ]
        for body in bodies {
            #expect(throws: GatewayError.self, "\(String(decoding: body, as: UTF8.self))") {
                try adapter.parseResponse(body, for: request)
            }
            do throws(GatewayError) {
                _ = try adapter.parseResponse(body, for: request)
            } catch {
                #expect(error.status == 502)
            }
        }
        // A stream cut before message-end, and one with a non-JSON event.
        let stream = try Fixture.bytes("cohere/chat.stream.sse")
        let cut = try #require(String(decoding: stream, as: UTF8.self).range(of: "event: message-end"))
        var truncated = adapter.makeStreamDecoder(for: streamedChat)
        _ = try truncated.feed(ByteBuffer(string: String(String(decoding: stream, as: UTF8.self)[..<cut.lowerBound])))
        #expect(throws: GatewayError.badUpstreamResponse("The upstream stream ended before Cohere's message-end event.")) {
            try truncated.finish()
        }
        var garbage = adapter.makeStreamDecoder(for: streamedChat)
        #expect(throws: GatewayError.self) { try garbage.feed(ByteBuffer(string: "data: {not json\n\n")) }
    }

    @Test func errorFixtures() throws {
        let invalid = adapter.mapError(
            status: 401, headers: [:], body: try Fixture.bytes("cohere/error.invalid_token.json"), deployment: deployment)
        #expect(invalid.status == 401 && invalid.type == "authentication_error" && invalid.code == "invalid_api_key")
        #expect(invalid.message == "invalid api token")
        let limited = adapter.mapError(
            status: 429, headers: ["retry-after": "7"], body: try Fixture.bytes("cohere/error.rate_limit.json"),
            deployment: deployment)
        #expect(limited.status == 429 && limited.code == "rate_limit_exceeded" && limited.isRetryable)
        #expect(limited.headers["retry-after"] == "7" && limited.message.contains("per minute request limit"))
        let tooLong = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("cohere/error.too_many_tokens.json"), deployment: deployment)
        #expect(tooLong.isContextWindowExceeded && tooLong.status == 400 && tooLong.type == "invalid_request_error")
        #expect(!tooLong.isRetryable)

        func map(_ status: Int, _ message: String) -> GatewayError {
            adapter.mapError(
                status: status, headers: [:], body: Array(#"{"message":"\#(message)"}"#.utf8), deployment: deployment)
        }
        #expect(map(498, "blocked: the request was flagged as unsafe").isContentPolicyViolation)
        #expect(map(498, "invalid token").status == 401)
        let quota = map(402, "Please add a payment method")
        #expect(quota.status == 429 && quota.code == "insufficient_quota")
        #expect(map(404, "model 'x' not found").code == "model_not_found")
        #expect(map(499, "client closed request").status == 400)
        #expect(map(503, "service unavailable").status == 503 && map(503, "x").isRetryable)
        #expect(map(400, "invalid request: message must be at least 1 token long").code == nil)
        // Neither the configured key nor anything key-shaped survives into the message.
        let leaky = map(401, "invalid api token co-secret-key-123 (Bearer abcdef123)")
        #expect(!leaky.message.contains("co-secret-key-123") && !leaky.message.contains("abcdef123"))
        #expect(adapter.mapError(status: 500, headers: [:], body: Array("oops".utf8), deployment: deployment).status == 500)
    }

    /// The follow-up turn of scenario B as a Cohere v2 chat request, field by field.
    @Test func translatesTheConversation() throws {
        let request = try chat(
            #"""
            {"model":"command","max_tokens":100,"max_completion_tokens":256,"temperature":0.3,"top_p":0.9,"top_k":40,
             "stop":"END","seed":7,"frequency_penalty":0.1,"presence_penalty":0.2,"stream":true,"user":"u-1",
             "stream_options":{"include_usage":true},"safety_mode":"CONTEXTUAL",
             "response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object"}}},
             "messages":[{"role":"developer","content":[{"type":"text","text":"You are a weather assistant."}]},
               {"role":"user","content":[{"type":"text","text":"What's the weather here?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
               {"role":"assistant","content":"Let me check the current weather in Paris.","tool_calls":[{"id":"get_weather_x1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
               {"role":"tool","tool_call_id":"get_weather_x1","content":"{\"temp_c\":18}"},
               {"role":"assistant","content":"It is 18 °C."}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required"}
            """#)
        let upstream = try adapter.request(for: request, deployment: deployment)
        #expect(upstream.url == "https://api.cohere.com/v2/chat")
        #expect(upstream.headers.first(name: "authorization") == "Bearer co-secret-key-123")
        #expect(upstream.headers.first(name: "accept") == "text/event-stream")
        let body = try JSONParser.parse(upstream.body)
        #expect(body["model"] == "command-a-03-2025" && body["stream"] == true)
        #expect(body["max_tokens"]?.intValue == 256 && body["temperature"] == .double(0.3) && body["p"] == .double(0.9))
        #expect(body["k"]?.intValue == 40 && body["seed"]?.intValue == 7 && body["stop_sequences"] == .array(["END"]))
        #expect(body["frequency_penalty"] == .double(0.1) && body["presence_penalty"] == .double(0.2))
        #expect(body["response_format"] == .object(["type": "json_object", "json_schema": .object(["type": "object"])]))
        #expect(body["tool_choice"] == "REQUIRED" && body["safety_mode"] == "CONTEXTUAL")
        for field in ["top_p", "stop", "user", "stream_options", "max_completion_tokens"] {
            #expect(body[field] == nil, "\(field) is not a Cohere field")
        }
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["system", "user", "assistant", "tool", "assistant"])
        #expect(messages[0]["content"] == "You are a weather assistant.")
        #expect(
            messages[1]["content"]?.arrayValue?.last
                == .object(["type": "image_url", "image_url": .object(["url": "data:image/png;base64,iVBORw0KGgo="])]))
        #expect(messages[2]["tool_plan"] == "Let me check the current weather in Paris." && messages[2]["content"] == nil)
        let call = try #require(messages[2]["tool_calls"]?.arrayValue?.first)
        #expect(call["id"] == "get_weather_x1" && call["function"]?["name"] == "get_weather")
        #expect(
            try JSONParser.parse(try #require(call["function"]?["arguments"]?.stringValue))
                == .object(["city": "Paris", "unit": "celsius"]))
        #expect(messages[3] == .object(["role": "tool", "tool_call_id": "get_weather_x1", "content": "{\"temp_c\":18}"]))
        #expect(messages[4] == .object(["role": "assistant", "content": "It is 18 °C."]))
        let tool = try #require(body["tools"]?.arrayValue?.first)
        #expect(tool["type"] == "function" && tool["function"]?["name"] == "get_weather")
        #expect(tool["function"]?["parameters"]?["properties"]?["city"] == .object(["type": "string"]))
    }

    @Test func toolChoicesAndFormats() throws {
        let tools = #""tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]"#
        func body(_ extra: String) throws -> JSONValue {
            let request = try chat(#"{"model":"c","messages":[{"role":"user","content":"x"}],\#(extra)}"#)
            return try JSONParser.parse(try adapter.request(for: request, deployment: deployment).body)
        }
        let named = try body(tools + #","tool_choice":{"type":"function","function":{"name":"b"}}"#)
        #expect(named["tool_choice"] == "REQUIRED" && named["tools"]?.arrayValue?.map { $0["function"]?["name"] } == ["b"])
        #expect(try body(tools + #","tool_choice":"none""#)["tool_choice"] == "NONE")
        let auto = try body(tools + #","tool_choice":"auto""#)
        #expect(auto["tool_choice"] == nil && auto["tools"]?.arrayValue?.count == 2)
        #expect(try body(#""response_format":{"type":"json_object"}"#)["response_format"] == .object(["type": "json_object"]))
        #expect(try body(#""response_format":{"type":"text"}"#)["response_format"] == nil)
        #expect(
            try body(#""reasoning_effort":"medium""#)["thinking"] == .object(["type": "enabled", "token_budget": .int(2048)]))
        #expect(try body(#""stream":false"#)["stream"] == nil)
        // Only the members Cohere defines are sent; OpenAI's per-function strict becomes strict_tools.
        let strict = try body(
            #""tools":[{"type":"function","function":{"name":"a","strict":true,"parameters":{"type":"object"}}}]"#)
        #expect(
            strict["tools"]
                == .array([
                    .object(["type": "function", "function": .object(["name": "a", "parameters": .object(["type": "object"])])])
                ]))
        #expect(strict["strict_tools"] == true && auto["strict_tools"] == nil)
        // A base already ending in /v2 is not given a second one.
        var v2 = deployment
        v2.apiBase = "http://cohere.internal/v2/"
        let request = try chat(#"{"model":"c","messages":[{"role":"user","content":"x"}]}"#)
        #expect(try adapter.request(for: request, deployment: v2).url == "http://cohere.internal/v2/chat")
        v2.apiBase = "https://api.cohere.ai/v1"
        #expect(try adapter.request(for: request, deployment: v2).url == "https://api.cohere.ai/v2/chat")
        var keyless = deployment
        keyless.apiKey = nil
        #expect(try adapter.request(for: request, deployment: keyless).headers.first(name: "authorization") == nil)
    }

    @Test func refusesWhatCohereCannotDo() throws {
        let user = #""messages":[{"role":"user","content":"x"}]"#
        let cases: [(String, String)] = [
            (#"{"model":"c",\#(user),"logprobs":true}"#, "logprobs"),
            (#"{"model":"c",\#(user),"logit_bias":{"1":2}}"#, "logit_bias"),
            (#"{"model":"c",\#(user),"n":2}"#, "n"),
            (#"{"model":"c",\#(user),"parallel_tool_calls":false}"#, "parallel_tool_calls"),
            (
                #"{"model":"c",\#(user),"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"zz"}}}"#,
                "tool_choice"
            ),
            (#"{"model":"c",\#(user),"response_format":{"type":"xml"}}"#, "response_format.type"),
            (#"{"model":"c",\#(user),"reasoning_effort":"extreme"}"#, "reasoning_effort"),
            (
                #"{"model":"c","messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}"#,
                "messages[0].tool_calls[0].function.arguments"
            ),
            (
                #"{"model":"c","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#,
                "messages[0].content[0].type"
            ),
            (#"{"model":"c","messages":[{"role":"tool","content":"x"}]}"#, "messages[0].tool_call_id"),
            (#"{"model":"c","messages":[{"role":"function","content":"x"}]}"#, "messages[0].role"),
            (
                #"{"model":"c","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#,
                "tools[0].function.name"
            ),
        ]
        for (text, param) in cases {
            let error = try refusal(text)
            #expect(error?.param == param && error?.status == 400, "\(text)")
        }
        // drop_params leaves unsupported parameters out, but never fakes n > 1.
        #expect(
            try refusal(
                #"{"model":"c",\#(user),"logprobs":true,"logit_bias":{"1":2},"parallel_tool_calls":false}"#, dropParams: true)
                == nil)
        #expect(try refusal(#"{"model":"c",\#(user),"n":3}"#, dropParams: true)?.param == "n")
        #expect(try refusal(#"{"model":"c",\#(user),"logprobs":false,"n":1}"#) == nil)
        var dropping = deployment
        dropping.dropParams = true
        let dropped = try adapter.request(for: chat(#"{"model":"c",\#(user),"logprobs":true}"#), deployment: dropping)
        #expect(try JSONParser.parse(dropped.body)["logprobs"] == nil)
    }

    @Test func embeddings() throws {
        let request = try OpenAIRequest(
            operation: .embeddings, bytes: Array(#"{"model":"embed","input":["hello","world"],"dimensions":256}"#.utf8))
        let upstream = try adapter.request(for: request, deployment: deployment)
        #expect(upstream.url == "https://api.cohere.com/v2/embed")
        let body = try JSONParser.parse(upstream.body)
        #expect(body["texts"] == .array(["hello", "world"]) && body["input_type"] == "search_document")
        #expect(body["embedding_types"] == .array(["float"]) && body["output_dimension"]?.intValue == 256)
        let answer = Array(
            #"{"id":"e1","embeddings":{"float":[[0.5,-1.25],[1,2]]},"texts":["hello","world"],"meta":{"billed_units":{"input_tokens":4}}}"#
                .utf8)
        let reply = try adapter.parseResponse(answer, for: request)
        let list = try JSONParser.parse(reply.body)
        #expect(list["object"] == "list" && list["model"] == "embed" && reply.usage?.inputTokens == 4)
        #expect(
            list["data"]?.arrayValue?.first
                == .object(["object": "embedding", "index": .int(0), "embedding": .array([.number("0.5"), .number("-1.25")])]))
        #expect(list["usage"] == .object(["prompt_tokens": .int(4), "total_tokens": .int(4)]))
        // base64 is little-endian float32, as OpenAI encodes it: 0.5 = 0x3F000000, -1.25 = 0xBFA00000.
        let base64Request = try OpenAIRequest(
            operation: .embeddings, bytes: Array(#"{"model":"embed","input":"hello","encoding_format":"base64"}"#.utf8))
        let encoded = try JSONParser.parse(adapter.parseResponse(answer, for: base64Request).body)
        let text = try #require(encoded["data"]?.arrayValue?.first?["embedding"]?.stringValue)
        #expect(Array(try #require(Data(base64Encoded: text))) == [0, 0, 0, 0x3F, 0, 0, 0xA0, 0xBF])
        let tokens = try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"embed","input":[[1,2,3]]}"#.utf8))
        #expect(throws: GatewayError.self) { try adapter.request(for: tokens, deployment: deployment) }
        #expect(throws: GatewayError.self) {
            try adapter.parseResponse(Array(#"{"embeddings":{"float":[["x"]]}}"#.utf8), for: request)
        }
    }

    enum Unexpected: Error { case chunk }
}
