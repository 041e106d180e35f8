import NIOCore
import Telemetry
import Testing

@testable import Proxy

@Suite struct AnthropicInboundTests {
    @Test func translatesAMessagesRequest() throws {
        let body = try AnthropicInbound.chatRequest(
            from: Array(
                #"""
                {"model":"any","max_tokens":300,"system":[{"type":"text","text":"Be brief."}],"stream":true,
                 "stop_sequences":["END"],"temperature":0.3,"metadata":{"user_id":"u1"},
                 "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
                 "tool_choice":{"type":"any"},
                 "messages":[
                   {"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}}]},
                   {"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
                   {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18C"}]},{"type":"text","text":"Thanks"}]}]}
                """#.utf8))
        #expect(body["model"] == "any" && body["max_tokens"]?.intValue == 300 && body["stop"] == .array(["END"]))
        #expect(body["stream"] == true && body["stream_options"]?["include_usage"] == true && body["user"] == "u1")
        #expect(body["tool_choice"] == "required")
        #expect(body["tools"]?.arrayValue?.first?["function"]?["parameters"]?["properties"]?["city"]?["type"] == "string")
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["system", "user", "assistant", "tool", "user"])
        #expect(messages[0]["content"] == "Be brief.")
        #expect(messages[1]["content"]?.arrayValue?.last?["image_url"]?["url"] == "data:image/png;base64,iVBO")
        #expect(messages[2]["content"] == "Checking.")
        let call = messages[2]["tool_calls"]?.arrayValue?.first
        #expect(call?["id"] == "toolu_1" && call?["function"]?["name"] == "get_weather")
        #expect(
            try JSONParser.parse(Array((call?["function"]?["arguments"]?.stringValue ?? "").utf8)) == .object(["city": "Paris"]))
        #expect(messages[3]["tool_call_id"] == "toolu_1" && messages[3]["content"] == "18C")
        #expect(messages[4]["content"] == "Thanks")
    }

    @Test func refusesMalformedRequestsNamingTheField() {
        let cases: [(String, String?)] = [
            (#"[1]"#, nil),
            (#"{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#, "model"),
            (#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#, "max_tokens"),
            (#"{"model":"m","max_tokens":5,"messages":[]}"#, "messages"),
            (#"{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#, "messages[0].role"),
            (
                #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"video"}]}]}"#,
                "messages[0].content[0].type"
            ),
            (
                #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool"}}"#,
                "tool_choice.name"
            ),
        ]
        for (text, param) in cases {
            do throws(GatewayError) {
                _ = try AnthropicInbound.chatRequest(from: Array(text.utf8))
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(text)")
            }
        }
    }

    @Test func translatesACompletionAndErrors() throws {
        let completion = try JSONParser.parse(
            Array(
                #"""
                {"id":"c1","object":"chat.completion","model":"gpt","choices":[{"index":0,"finish_reason":"tool_calls",
                 "message":{"role":"assistant","content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}],
                 "usage":{"prompt_tokens":1250,"completion_tokens":73,"total_tokens":1323,"prompt_tokens_details":{"cached_tokens":1024}}}
                """#.utf8))
        let message = AnthropicInbound.message(fromCompletion: completion)
        #expect(message["type"] == "message" && message["stop_reason"] == "tool_use")
        #expect(message["content"]?.arrayValue?.map { $0["type"]?.stringValue ?? "" } == ["text", "tool_use"])
        #expect(message["content"]?.arrayValue?.last?["input"] == .object(["city": "Paris"]))
        #expect(
            message["usage"]?["input_tokens"]?.intValue == 226 && message["usage"]?["cache_read_input_tokens"]?.intValue == 1024)
        #expect(message["usage"]?["output_tokens"]?.intValue == 73)

        let error = AnthropicInbound.error(
            fromOpenAI: .object(["error": .object(["message": "slow down", "type": "rate_limit_exceeded"])]), status: 429)
        #expect(error == .object(["type": "error", "error": .object(["type": "rate_limit_error", "message": "slow down"])]))
    }

    /// The OpenAI stream of scenario B, re-encoded as Anthropic events and read back with the
    /// Anthropic decoder: the round trip keeps text, the tool call, the finish and usage.
    @Test func streamRoundTripsThroughAnthropicEvents() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["openai/chat.stream.sse"])
        var encoder = AnthropicEventEncoder()
        var events: [UInt8] = []
        for byte in try Fixture.bytes("openai/chat.stream.sse") { events += encoder.encode(ByteBuffer(bytes: [byte])) }
        let text = String(decoding: events, as: UTF8.self)
        #expect(
            text.hasPrefix("event: message_start\n")
                && text.hasSuffix("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
        let transcript = try StreamTranscript.decodeBytewise(
            events, with: AnthropicAdapter().makeStreamDecoder(for: streamedChat))
        try transcript.expectMatches(expected)
    }
}
