import Foundation
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct OllamaAdapterTests {
    let adapter = OllamaAdapter()
    let deployment = DeploymentConfig(modelName: "qwen", provider: "ollama_chat", model: "qwen3:8b", id: "d")

    func refusal(_ text: String, dropParams: Bool = false) throws -> GatewayError? {
        try adapter.refusal(text, deployment: deployment, dropParams: dropParams)
    }

    /// Scenario A: thinking, counts from prompt_eval_count / eval_count, no cache breakdown.
    @Test func parsesTheChatFixture() throws {
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")["ollama/chat.response.json"])
        var request = try chat(#"{"model":"qwen","messages":[{"role":"user","content":"What is the capital of France?"}]}"#)
        request.includeReasoning = true
        let reply = try adapter.parseResponse(
            try Fixture.bytes("ollama/chat.response.json"), for: request)
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.totalTokens == expected["usage"]?["total_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == 0 && usage.reasoningTokens == 0)
        #expect(reply.finishReasons == [try #require(expected["finish_reason"]?.stringValue)])
        #expect(reply.responseModel == "qwen3:8b" && reply.responseID?.hasPrefix("chatcmpl-") == true)
        let body = try JSONParser.parse(reply.body)
        let message = body["choices"]?.arrayValue?.first?["message"]
        #expect(body["object"] == "chat.completion" && body["id"]?.stringValue == reply.responseID)
        #expect(body["created"]?.intValue == 1_795_608_001)  // 2026-11-25T12:00:01Z
        #expect(message?["content"] == expected["content"])
        #expect(message?["reasoning_content"] == expected["reasoning_content"])
        #expect(message?["tool_calls"] == nil)
        for field in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            #expect(body["usage"]?[field] == expected["usage"]?[field], "\(field)")
        }
        // Neither breakdown is reported by Ollama, so neither is claimed.
        #expect(expected["usage"]?["prompt_tokens_details"]?["cached_tokens"] == .null)
        #expect(body["usage"]?["prompt_tokens_details"] == nil && body["usage"]?["completion_tokens_details"] == nil)

        request.includeReasoning = false
        let plain = try JSONParser.parse(adapter.parseResponse(try Fixture.bytes("ollama/chat.response.json"), for: request).body)
        #expect(plain["choices"]?.arrayValue?.first?["message"]?["reasoning_content"] == nil)
    }

    @Test func toolCallsInAWholeAnswer() throws {
        let request = try chat(#"{"model":"qwen","messages":[{"role":"user","content":"x"}]}"#)
        let answer =
            #"{"model":"qwen3:8b","created_at":"2026-11-25T12:00:02Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":true,"done_reason":"stop","eval_count":9}"#
        let reply = try adapter.parseResponse(Array(answer.utf8), for: request)
        #expect(reply.finishReasons == ["tool_calls"])
        #expect(reply.usage == Usage(inputTokens: 0, outputTokens: 9))
        let message = try JSONParser.parse(reply.body)["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == .null)
        let call = try #require(message?["tool_calls"]?.arrayValue?.first)
        #expect(call["index"] == nil && call["type"] == "function" && call["function"]?["name"] == "get_weather")
        #expect(call["function"]?["arguments"] == #"{"city":"Paris"}"#)
        let id = try #require(call["id"]?.stringValue)
        #expect(id.hasPrefix("call_") && id.count == 29 && id.dropFirst(5).allSatisfy { $0.isLetter || $0.isNumber })
        let length = #"{"model":"m","message":{"role":"assistant","content":"abc"},"done":true,"done_reason":"length"}"#
        let cut = try adapter.parseResponse(Array(length.utf8), for: request)
        #expect(cut.finishReasons == ["length"] && cut.usage == nil)
    }

    /// Scenario B fed one byte at a time: content lines, one whole tool call, the done line.
    @Test func decodesTheStreamFixtureByteByByte() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["ollama/chat.stream.ndjson"])
        let bytes = try Fixture.bytes("ollama/chat.stream.ndjson")
        let chunks = try StreamTranscript.chunksBytewise(bytes, with: adapter.makeStreamDecoder(for: streamedChat))
        let transcript = try StreamTranscript(chunks)
        try transcript.expectMatches(expected)
        #expect(transcript.toolCalls[0]?.id?.hasPrefix("call_") == true)
        // Every chunk of one stream shares the made-up id, Ollama's model and created time.
        var ids = Set<String>()
        for case .chunk(let object, _) in chunks {
            ids.insert(object["id"]?.stringValue ?? "")
            #expect(object["model"] == "qwen3:8b" && object["created"]?.intValue == 1_795_608_002)
        }
        #expect(ids.count == 1 && ids.first?.hasPrefix("chatcmpl-") == true)
        var whole = adapter.makeStreamDecoder(for: streamedChat)
        try StreamTranscript(whole.feed(ByteBuffer(bytes: bytes)) + whole.finish()).expectMatches(expected)
    }

    /// An `{"error":…}` line after content: an OpenAI-shaped error event, then nothing, no [DONE].
    @Test func midStreamErrorBecomesAnErrorChunk() throws {
        let bytes = try Fixture.bytes("ollama/chat.stream-midstream-error.ndjson")
        let transcript = try StreamTranscript(
            StreamTranscript.chunksBytewise(bytes, with: adapter.makeStreamDecoder(for: streamedChat)))
        #expect(transcript.content == "Let me" && !transcript.sawDone && transcript.finishReason == nil)
        #expect(transcript.errors.count == 1)
        let error = try #require(transcript.errors.first)
        #expect(error["type"] == "api_error" && error["code"] == "internal_error" && error["param"] == .null)
        #expect(error["message"]?.stringValue?.contains("unexpected EOF") == true)
    }

    @Test func malformedAndTruncatedAnswersAreBadUpstreamResponses() throws {
        let request = try chat(#"{"model":"qwen","messages":[{"role":"user","content":"x"}]}"#)
        let fixture = try Fixture.bytes("ollama/chat.response.json")
        let bodies = [
            Array("not json".utf8), Array(fixture[..<(fixture.count - 10)]), Array(#"{"model":"m","done":true}"#.utf8),
            Array(#"{"error":"model crashed"}"#.utf8), Array(#"{"message":{"tool_calls":{"function":{}}}}"#.utf8),
        ]
        for body in bodies {
            do throws(GatewayError) {
                _ = try adapter.parseResponse(body, for: request)
                Issue.record("accepted \(String(decoding: body, as: UTF8.self))")
            } catch {
                #expect(error.status == 502 && error.code == "bad_upstream_response")
            }
        }
        // The done line never came.
        let stream = try Fixture.bytes("ollama/chat.stream.ndjson")
        var truncated = adapter.makeStreamDecoder(for: streamedChat)
        let lastLine = try #require(stream.dropLast().lastIndex(of: 0x0A))
        _ = try truncated.feed(ByteBuffer(bytes: stream[...lastLine]))
        #expect(throws: GatewayError.badUpstreamResponse("The upstream stream ended before Ollama's final (done) line.")) {
            try truncated.finish()
        }
        var garbage = adapter.makeStreamDecoder(for: streamedChat)
        #expect(throws: GatewayError.self) { try garbage.feed(ByteBuffer(string: "{\"done\":\n")) }
        // A done line without its final newline still ends the stream.
        var unterminated = adapter.makeStreamDecoder(for: streamedChat)
        var chunks = try unterminated.feed(ByteBuffer(bytes: stream.dropLast()))
        chunks += try unterminated.finish()
        #expect(try StreamTranscript(chunks).sawDone)
    }

    @Test func errorFixtures() throws {
        let missing = adapter.mapError(
            status: 404, headers: [:], body: try Fixture.bytes("ollama/error.model_not_found.json"), deployment: deployment)
        #expect(missing.status == 404 && missing.code == "model_not_found" && missing.type == "not_found_error")
        #expect(missing.message.contains("try pulling it first") && !missing.isRetryable)
        func map(_ status: Int, _ text: String) -> GatewayError {
            var keyed = deployment
            keyed.apiKey = "ollama-secret-key"
            return adapter.mapError(status: status, headers: [:], body: Array(#"{"error":"\#(text)"}"#.utf8), deployment: keyed)
        }
        let crashed = map(500, "an error was encountered while running the model: CUDA error")
        #expect(crashed.status == 500 && crashed.code == "internal_error" && crashed.isRetryable)
        #expect(map(400, "invalid options").status == 400 && map(400, "invalid options").type == "invalid_request_error")
        #expect(map(400, "the request exceeds the available context size").isContextWindowExceeded)
        #expect(map(401, "unauthorized").status == 401)
        let leaky = map(401, "bad key ollama-secret-key")
        #expect(!leaky.message.contains("ollama-secret-key"))
        #expect(adapter.mapError(status: 502, headers: [:], body: [], deployment: deployment).status == 502)
    }

    /// The follow-up turn of scenario B as an Ollama /api/chat request, field by field.
    @Test func translatesTheConversation() throws {
        let request = try chat(
            #"""
            {"model":"qwen","max_completion_tokens":512,"temperature":0.7,"top_p":0.9,"top_k":40,"stop":["END"],"seed":7,
             "presence_penalty":0.1,"frequency_penalty":0.2,"response_format":{"type":"json_object"},"keep_alive":"5m",
             "options":{"num_ctx":8192,"temperature":1.5},"user":"u-1",
             "messages":[{"role":"system","content":"You are a weather assistant."},
               {"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
               {"role":"tool","tool_call_id":"call_abc","content":"{\"temp_c\":18}"},
               {"role":"tool","tool_call_id":"call_unknown","content":"?"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object"}}}]}
            """#)
        let upstream = try adapter.request(for: request, deployment: deployment)
        #expect(upstream.url == "http://localhost:11434/api/chat")
        #expect(upstream.headers.first(name: "authorization") == nil)
        let body = try JSONParser.parse(upstream.body)
        #expect(body["model"] == "qwen3:8b" && body["stream"] == false && body["format"] == "json")
        #expect(body["keep_alive"] == "5m" && body["user"] == nil && body["response_format"] == nil)
        let options = try #require(body["options"])
        #expect(options["num_predict"]?.intValue == 512 && options["temperature"] == .double(0.7))
        #expect(options["top_p"] == .double(0.9) && options["top_k"]?.intValue == 40 && options["seed"]?.intValue == 7)
        #expect(options["stop"] == .array(["END"]) && options["num_ctx"]?.intValue == 8192)
        #expect(options["presence_penalty"] == .double(0.1) && options["frequency_penalty"] == .double(0.2))
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages[0] == .object(["role": "system", "content": "You are a weather assistant."]))
        #expect(
            messages[1]
                == .object([
                    "role": "user", "content": "What is in this picture?", "images": .array(["iVBORw0KGgo="]),
                ]))
        #expect(
            messages[2]
                == .object([
                    "role": "assistant", "content": "",
                    "tool_calls": .array([
                        .object(["function": .object(["name": "get_weather", "arguments": .object(["city": "Paris"])])])
                    ]),
                ]))
        #expect(messages[3] == .object(["role": "tool", "content": "{\"temp_c\":18}", "tool_name": "get_weather"]))
        #expect(messages[4] == .object(["role": "tool", "content": "?"]))
        #expect(body["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
    }

    @Test func streamingSchemasToolChoiceAndKeys() throws {
        func body(_ extra: String, deployment: DeploymentConfig? = nil) throws -> JSONValue {
            let request = try chat(#"{"model":"q","messages":[{"role":"user","content":"x"}],\#(extra)}"#)
            return try JSONParser.parse(try adapter.request(for: request, deployment: deployment ?? self.deployment).body)
        }
        let streamed = try body(#""stream":true,"stream_options":{"include_usage":true}"#)
        #expect(streamed["stream"] == true && streamed["stream_options"] == nil && streamed["options"] == nil)
        let schema = try body(
            #""response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object","required":["a"]}}}"#)
        #expect(schema["format"] == .object(["type": "object", "required": .array(["a"])]))
        let tools = #""tools":[{"type":"function","function":{"name":"a"}}]"#
        #expect(try body(tools + #","tool_choice":"none""#)["tools"] == nil)
        #expect(try body(tools + #","tool_choice":"auto""#)["tools"]?.arrayValue?.count == 1)
        var dropping = deployment
        dropping.dropParams = true
        #expect(try body(tools + #","tool_choice":"required""#, deployment: dropping)["tools"]?.arrayValue?.count == 1)
        #expect(try body(#""reasoning_effort":"high""#)["think"] == "high")
        #expect(try body(#""reasoning_effort":"none""#)["think"] == false)

        var hosted = deployment
        hosted.apiBase = "https://ollama.com/"
        hosted.apiKey = "ollama-key"
        let request = try chat(#"{"model":"q","messages":[{"role":"user","content":"x"}]}"#)
        let upstream = try adapter.request(for: request, deployment: hosted)
        #expect(
            upstream.url == "https://ollama.com/api/chat" && upstream.headers.first(name: "authorization") == "Bearer ollama-key")
    }

    @Test func refusesWhatOllamaCannotDo() throws {
        let user = #""messages":[{"role":"user","content":"x"}]"#
        let tools = #""tools":[{"type":"function","function":{"name":"a"}}]"#
        let cases: [(String, String)] = [
            (#"{"model":"q",\#(user),\#(tools),"tool_choice":"required"}"#, "tool_choice"),
            (#"{"model":"q",\#(user),\#(tools),"tool_choice":{"type":"function","function":{"name":"a"}}}"#, "tool_choice"),
            (#"{"model":"q",\#(user),"n":2}"#, "n"),
            (#"{"model":"q",\#(user),"logprobs":true}"#, "logprobs"),
            (
                #"{"model":"q",\#(user),"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}"#,
                "response_format.json_schema.schema"
            ),
            (
                #"{"model":"q","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}"#,
                "messages[0].content[0].image_url.url"
            ),
            (
                #"{"model":"q","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}]}"#,
                "messages[0].content[0].type"
            ),
            (
                #"{"model":"q","messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}"#,
                "messages[0].tool_calls[0].function.arguments"
            ),
        ]
        for (text, param) in cases {
            let error = try refusal(text)
            #expect(error?.param == param && error?.status == 400, "\(text)")
        }
        #expect(try refusal(#"{"model":"q",\#(user),"logprobs":true,"logit_bias":{"1":1}}"#, dropParams: true) == nil)
        #expect(try refusal(#"{"model":"q",\#(user),"n":2}"#, dropParams: true)?.param == "n")
    }

    @Test func embeddings() throws {
        let request = try OpenAIRequest(
            operation: .embeddings, bytes: Array(#"{"model":"nomic","input":"hello","dimensions":64}"#.utf8))
        let upstream = try adapter.request(for: request, deployment: deployment)
        #expect(upstream.url == "http://localhost:11434/api/embed")
        let body = try JSONParser.parse(upstream.body)
        #expect(body == .object(["model": "qwen3:8b", "input": .array(["hello"]), "dimensions": .int(64)]))
        let answer = Array(
            #"{"model":"nomic-embed-text","embeddings":[[0.25,-0.5]],"total_duration":1,"prompt_eval_count":3}"#.utf8)
        let reply = try adapter.parseResponse(answer, for: request)
        #expect(reply.usage == Usage(inputTokens: 3, outputTokens: 0) && reply.responseModel == "nomic-embed-text")
        let list = try JSONParser.parse(reply.body)
        #expect(list["data"]?.arrayValue?.first?["embedding"] == .array([.number("0.25"), .number("-0.5")]))
        #expect(list["usage"]?["prompt_tokens"]?.intValue == 3 && list["model"] == "nomic")
        #expect(throws: GatewayError.self) { try adapter.parseResponse(Array(#"{"model":"m"}"#.utf8), for: request) }
    }

    @Test func readsRFC3339Timestamps() {
        #expect(OllamaAdapter.unixSeconds(rfc3339: "1970-01-01T00:00:00Z") == 0)
        #expect(OllamaAdapter.unixSeconds(rfc3339: "2026-11-25T12:00:01.482913Z") == 1_795_608_001)
        #expect(OllamaAdapter.unixSeconds(rfc3339: "2024-02-29T23:59:59.123456789-07:00") == 1_709_276_399)
        for bad in [
            "", "2026-11-25", "2026-13-25T12:00:01Z", "2026-11-25T12:00:01", "2026-11-25T12:00:01+0100",
            "2026-11-25T12:00:01Zjunk",
        ] {
            #expect(OllamaAdapter.unixSeconds(rfc3339: bad) == nil, "\(bad)")
        }
    }
}
