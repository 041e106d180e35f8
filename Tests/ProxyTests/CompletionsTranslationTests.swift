import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// The Completions ⇄ Chat table of the endpoint reference (§2), case by case.
@Suite struct CompletionsTranslationTests {
    static func object(_ text: String) throws -> JSONObject {
        try #require(try JSONParser.parse(text).objectValue)
    }

    /// Members regardless of order: the table says which fields map, not where they sit.
    static func members(_ object: JSONObject) -> [String: JSONValue] {
        Dictionary(object.members.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }

    @Test func aStringPromptBecomesOneUserMessage() throws {
        let body = try Self.object(
            #"""
            {"model":"gpt-3.5-turbo-instruct","prompt":"Say this is a test","max_tokens":7,"temperature":0,"top_p":1,"n":1,
             "stop":["\n"],"presence_penalty":0.5,"frequency_penalty":-0.5,"logit_bias":{"50256":-100},"seed":42,"user":"u1",
             "logprobs":2,"echo":true}
            """#)
        let chat = try CompletionsInbound.chatRequest(from: body)
        let expected = try Self.object(
            #"""
            {"model":"gpt-3.5-turbo-instruct","messages":[{"role":"user","content":"Say this is a test"}],"max_tokens":7,
             "temperature":0,"top_p":1,"n":1,"stop":["\n"],"presence_penalty":0.5,"frequency_penalty":-0.5,
             "logit_bias":{"50256":-100},"seed":42,"user":"u1","logprobs":true,"top_logprobs":2}
            """#)
        #expect(Self.members(chat) == Self.members(expected))
        #expect(CompletionsInbound.echoPrefix(of: body) == "Say this is a test")
    }

    @Test func streamingAlwaysAsksForUsage() throws {
        let body = try Self.object(#"{"model":"m","prompt":["Once upon"],"stream":true}"#)
        let chat = try CompletionsInbound.chatRequest(from: body)
        #expect(chat["messages"] == .array([.object(["role": "user", "content": "Once upon"])]))
        #expect(chat["stream"] == true && chat["stream_options"] == .object(["include_usage": true]))
        #expect(CompletionsInbound.echoPrefix(of: body) == nil)

        let asking = try Self.object(
            #"{"model":"m","prompt":"p","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}"#)
        #expect(
            try CompletionsInbound.chatRequest(from: asking)["stream_options"]
                == .object(["include_usage": true, "include_obfuscation": false]))

        // OpenAI refuses stream_options without stream.
        let notStreaming = try Self.object(#"{"model":"m","prompt":"p","stream_options":{"include_usage":true}}"#)
        #expect(try CompletionsInbound.chatRequest(from: notStreaming)["stream_options"] == nil)
    }

    @Test func whatChatCannotDoIsRefusedNamingTheField() throws {
        let cases: [(String, String)] = [
            (#"{"model":"m","prompt":"def add(a, b):","suffix":"    return c"}"#, "suffix"),
            (#"{"model":"m","prompt":["first","second"]}"#, "prompt"),
            (#"{"model":"m","prompt":[1212,318,257,1332]}"#, "prompt"),
            (#"{"model":"m","prompt":[[1212,318],[257]]}"#, "prompt"),
            (#"{"model":"m","prompt":"p","best_of":3,"n":1}"#, "best_of"),
        ]
        for (text, param) in cases {
            let body = try Self.object(text)
            do throws(GatewayError) {
                _ = try CompletionsInbound.chatRequest(from: body)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(text)")
                #expect(error.message.contains("native completions endpoint"), "\(text)")
            }
        }
    }

    @Test func badFieldTypesAreRefusedNamingTheField() throws {
        let cases: [(String, String)] = [
            (#"{"prompt":"p"}"#, "model"),
            (#"{"model":"","prompt":"p"}"#, "model"),
            (#"{"model":"m"}"#, "prompt"),
            (#"{"model":"m","prompt":[]}"#, "prompt"),
            (#"{"model":"m","prompt":{"text":"p"}}"#, "prompt"),
            (#"{"model":"m","prompt":"p","logprobs":6}"#, "logprobs"),
            (#"{"model":"m","prompt":"p","n":0}"#, "n"),
            (#"{"model":"m","prompt":"p","max_tokens":1.5}"#, "max_tokens"),
            (#"{"model":"m","prompt":"p","echo":"yes"}"#, "echo"),
            (#"{"model":"m","prompt":"p","stream":"true"}"#, "stream"),
            (#"{"model":"m","prompt":"p","stream_options":true}"#, "stream_options"),
            (#"{"model":"m","prompt":"p","temperature":"hot"}"#, "temperature"),
            (#"{"model":"m","prompt":"p","top_p":"all"}"#, "top_p"),
            (#"{"model":"m","prompt":"p","frequency_penalty":3}"#, "frequency_penalty"),
            (#"{"model":"m","prompt":"p","presence_penalty":-2.5}"#, "presence_penalty"),
            (#"{"model":"m","prompt":"p","best_of":"2"}"#, "best_of"),
        ]
        for (text, param) in cases {
            let body = try Self.object(text)
            do throws(GatewayError) {
                try CompletionsInbound.validate(body)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(text)")
            }
        }
        try CompletionsInbound.validate(
            try Self.object(#"{"model":"m","prompt":[[1,2]],"logprobs":5,"n":2,"best_of":3,"echo":false,"stream":null}"#))
    }

    @Test func aChatCompletionBecomesATextCompletion() throws {
        let chat = try JSONParser.parse(
            #"""
            {"id":"chatcmpl-abc123","object":"chat.completion","created":1795608000,"model":"gpt-4.1-mini",
             "system_fingerprint":"fp_1","choices":[{"index":0,
              "message":{"role":"assistant","content":"Hello café","refusal":null},
              "logprobs":{"content":[
                {"token":"Hello","logprob":-0.1,"bytes":[72,101,108,108,111],
                 "top_logprobs":[{"token":"Hello","logprob":-0.1,"bytes":[72,101,108,108,111]},{"token":"Hi","logprob":-2.3,"bytes":[72,105]}]},
                {"token":" café","logprob":-0.5,"bytes":[32,99,97,102,195,169],
                 "top_logprobs":[{"token":" cafe","logprob":-1.2,"bytes":[32,99,97,102,101]}]}],"refusal":null},
              "finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
            """#)
        // echo: the prompt goes before the text, and offsets count from its end (5 characters).
        let expected = try JSONParser.parse(
            #"""
            {"id":"cmpl-abc123","object":"text_completion","created":1795608000,"model":"gpt-4.1-mini",
             "system_fingerprint":"fp_1","choices":[{"text":"Say: Hello café","index":0,
              "logprobs":{"tokens":["Hello"," café"],"token_logprobs":[-0.1,-0.5],
               "top_logprobs":[{"Hello":-0.1,"Hi":-2.3},{" cafe":-1.2," café":-0.5}],"text_offset":[5,10]},
              "finish_reason":"stop"}],
             "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
            """#)
        #expect(CompletionsInbound.completion(fromChat: chat, echo: "Say: ") == expected)
    }

    @Test func toolCallsFinishAsStopWithoutText() throws {
        let chat = try JSONParser.parse(
            #"""
            {"id":"chatcmpl-x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,
             "message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
             "function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":"function_call"}]}
            """#)
        let completion = CompletionsInbound.completion(fromChat: chat, echo: nil)
        #expect(completion["id"] == "cmpl-x" && completion["object"] == "text_completion")
        #expect(
            completion["choices"]
                == .array([.object(["text": "", "index": .int(0), "logprobs": .null, "finish_reason": "stop"])]))
        #expect(completion["usage"] == nil && completion["system_fingerprint"] == nil)
        #expect(CompletionsInbound.completionID("chatcmpl-9z") == "cmpl-9z")
        #expect(CompletionsInbound.completionID("msg_01") == "cmpl-msg_01")
    }

    /// A chat stream as the gateway sends it: role-only opening chunk, two deltas, the finish, the
    /// usage-only chunk, `[DONE]`.
    static let chatEvents = [
        #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1795608000,"model":"gpt-4.1-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1795608000,"model":"gpt-4.1-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1795608000,"model":"gpt-4.1-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1795608000,"model":"gpt-4.1-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}"#,
        #"{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1795608000,"model":"gpt-4.1-mini","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
        "[DONE]",
    ]
    static let chatStream = chatEvents.map { "data: \($0)\n\n" }.joined()

    static let head =
        #"data: {"id":"cmpl-abc","object":"text_completion","created":1795608000,"model":"gpt-4.1-mini","system_fingerprint":"fp_1","choices":"#

    static func encodeBytewise(_ stream: String, echo: String?, clientWantsUsage: Bool) -> String {
        var encoder = CompletionsChunkEncoder(echo: echo, clientWantsUsage: clientWantsUsage)
        var out: [UInt8] = []
        for byte in Array(stream.utf8) { out += encoder.encode(ByteBuffer(bytes: [byte])) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func streamWithEchoAndUsage() {
        let expected = [
            Self.head + #"[{"text":"Say: Hello","index":0,"logprobs":null,"finish_reason":null}]}"# + "\n\n",
            Self.head + #"[{"text":" world","index":0,"logprobs":null,"finish_reason":null}]}"# + "\n\n",
            Self.head + #"[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]}"# + "\n\n",
            Self.head + #"[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"# + "\n\n",
            "data: [DONE]\n\n",
        ].joined()
        #expect(Self.encodeBytewise(Self.chatStream, echo: "Say: ", clientWantsUsage: true) == expected)
    }

    @Test func usageIsForwardedOnlyWhenAsked() {
        let expected = [
            Self.head + #"[{"text":"Hello","index":0,"logprobs":null,"finish_reason":null}]}"# + "\n\n",
            Self.head + #"[{"text":" world","index":0,"logprobs":null,"finish_reason":null}]}"# + "\n\n",
            Self.head + #"[{"text":"","index":0,"logprobs":null,"finish_reason":"stop"}]}"# + "\n\n",
            "data: [DONE]\n\n",
        ].joined()
        #expect(Self.encodeBytewise(Self.chatStream, echo: nil, clientWantsUsage: false) == expected)
    }

    @Test func streamErrorsPassUnchanged() {
        let error =
            #"data: {"error":{"message":"The upstream failed.","type":"api_error","param":null,"code":"bad_gateway"}}"#
            + "\n\n"
        let stream = "data: " + Self.chatEvents[1] + "\n\n" + error
        let expected = Self.head + #"[{"text":"Hello","index":0,"logprobs":null,"finish_reason":null}]}"# + "\n\n" + error
        #expect(Self.encodeBytewise(stream, echo: nil, clientWantsUsage: true) == expected)
    }

    /// Streamed logprobs keep counting character offsets across chunks, from the end of the echo.
    @Test func streamedLogprobsCarryTheirOffsets() {
        let stream = [
            #"{"id":"chatcmpl-l","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":{"content":[{"token":"Hel","logprob":-0.2,"bytes":[72,101,108],"top_logprobs":[]}]},"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-l","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo"},"logprobs":{"content":[{"token":"lo","logprob":-0.3,"bytes":[108,111],"top_logprobs":[{"token":"lo","logprob":-0.3,"bytes":[108,111]},{"token":"p","logprob":-1.9,"bytes":[112]}]}]},"finish_reason":"length"}]}"#,
        ].map { "data: \($0)\n\n" }.joined()
        let head = #"data: {"id":"cmpl-l","object":"text_completion","created":1,"model":"m","choices":"#
        let expected = [
            head
                + #"[{"text":"Hi Hel","index":0,"logprobs":{"tokens":["Hel"],"token_logprobs":[-0.2],"top_logprobs":[{"Hel":-0.2}],"text_offset":[3]},"finish_reason":null}]}"#
                + "\n\n",
            head
                + #"[{"text":"lo","index":0,"logprobs":{"tokens":["lo"],"token_logprobs":[-0.3],"top_logprobs":[{"lo":-0.3,"p":-1.9}],"text_offset":[6]},"finish_reason":"length"}]}"#
                + "\n\n",
        ].joined()
        #expect(Self.encodeBytewise(stream, echo: "Hi ", clientWantsUsage: false) == expected)
    }
}
