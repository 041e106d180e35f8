import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// Responses served through Chat Completions: expected values come from the mapping tables and
/// the event order of the endpoint reference (§1.3–§1.7).
@Suite struct ResponsesTranslationTests {
    // MARK: Request: Responses → Chat

    @Test func stringInputIsOneUserMessage() throws {
        let chat = try ResponsesInbound.chatRequest(from: object(#"{"model":"gpt-x","input":"Hello there"}"#), history: [])
        let expected: JSONObject = [
            "model": "gpt-x", "messages": .array([.object(["role": "user", "content": "Hello there"])]),
        ]
        #expect(chat == expected)
    }

    @Test func consecutiveFunctionCallsMakeOneAssistantMessage() throws {
        let chat = try ResponsesInbound.chatRequest(
            from: object(
                #"""
                {"model":"m","input":[
                  {"role":"user","content":"Weather in Paris and Rome?"},
                  {"type":"reasoning","id":"rs_1","summary":[]},
                  {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
                  {"type":"function_call","id":"fc_2","call_id":"call_2","name":"get_weather","arguments":"{\"city\":\"Rome\"}","status":"completed"},
                  {"type":"function_call_output","call_id":"call_1","output":"18C"},
                  {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"21C"}]}]}
                """#), history: [])
        let messages = try #require(chat["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "tool", "tool"])
        #expect(messages[0]["content"] == "Weather in Paris and Rome?")
        #expect(messages[1]["content"] == .null)
        #expect(
            messages[1]["tool_calls"]
                == .array([
                    .object([
                        "id": "call_1", "type": "function",
                        "function": .object(["name": "get_weather", "arguments": #"{"city":"Paris"}"#]),
                    ]),
                    .object([
                        "id": "call_2", "type": "function",
                        "function": .object(["name": "get_weather", "arguments": #"{"city":"Rome"}"#]),
                    ]),
                ]))
        #expect(messages[2]["tool_call_id"] == "call_1" && messages[2]["content"] == "18C")
        #expect(messages[3]["tool_call_id"] == "call_2")
        #expect(messages[3]["content"] == .array([.object(["type": "text", "text": "21C"])]))
        #expect(try ResponsesInbound.inputMessages(object(#"{"model":"m","input":"hi"}"#)).count == 1)
    }

    @Test func contentPartsMapToChatParts() throws {
        let chat = try ResponsesInbound.chatRequest(
            from: object(
                #"""
                {"model":"m","input":[
                  {"type":"message","role":"developer","content":"Answer in French."},
                  {"role":"user","content":[
                    {"type":"input_text","text":"What is this?"},
                    {"type":"input_image","image_url":"https://example.com/cat.png","detail":"high"},
                    {"type":"input_image","image_url":"data:image/png;base64,iVBO"},
                    {"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}]},
                  {"type":"message","id":"msg_0","role":"assistant","status":"completed",
                   "content":[{"type":"output_text","text":"Un chat.","annotations":[]}]}]}
                """#), history: [])
        let messages = try #require(chat["messages"]?.arrayValue)
        #expect(messages[0] == .object(["role": "developer", "content": "Answer in French."]))
        let parts = try #require(messages[1]["content"]?.arrayValue)
        #expect(parts[0] == .object(["type": "text", "text": "What is this?"]))
        #expect(parts[1]["type"] == "image_url")
        #expect(parts[1]["image_url"]?["url"] == "https://example.com/cat.png" && parts[1]["image_url"]?["detail"] == "high")
        // The SDK marks `detail` required; absent, it is `auto`.
        #expect(parts[2]["image_url"]?["url"] == "data:image/png;base64,iVBO" && parts[2]["image_url"]?["detail"] == "auto")
        #expect(parts[3]["type"] == "file")
        #expect(parts[3]["file"]?["file_data"] == "data:application/pdf;base64,JVBE" && parts[3]["file"]?["filename"] == "a.pdf")
        #expect(messages[2] == .object(["role": "assistant", "content": "Un chat."]))
    }

    @Test func instructionsComeFirstThenHistoryThenInput() throws {
        let history: [JSONValue] = [
            .object(["role": "user", "content": "Weather in Paris?"]),
            .object(["role": "assistant", "content": "Sunny."]),
        ]
        let chat = try ResponsesInbound.chatRequest(
            from: object(
                #"""
                {"model":"m","instructions":"Be brief.","input":"And tomorrow?","previous_response_id":"resp_1",
                 "store":true,"include":["reasoning.encrypted_content"],"truncation":"disabled"}
                """#), history: history)
        #expect(
            chat["messages"]
                == .array([
                    .object(["role": "system", "content": "Be brief."]), history[0], history[1],
                    .object(["role": "user", "content": "And tomorrow?"]),
                ]))
        for field in ["previous_response_id", "store", "include", "truncation", "instructions", "input"] {
            #expect(chat[field] == nil, "\(field)")
        }
    }

    @Test func optionsMapToChatNames() throws {
        let chat = try ResponsesInbound.chatRequest(
            from: object(
                #"""
                {"model":"m","input":"x","stream":true,"max_output_tokens":300,"temperature":0.2,"top_p":0.9,
                 "parallel_tool_calls":false,"user":"u1","metadata":{"k":"v"},"service_tier":"flex",
                 "safety_identifier":"s1","prompt_cache_key":"p1","top_logprobs":3,
                 "reasoning":{"effort":"low","summary":"auto"},
                 "text":{"format":{"type":"json_schema","name":"weather","description":"A forecast","strict":true,
                   "schema":{"type":"object","properties":{"t":{"type":"number"}}}},"verbosity":"low"}}
                """#), history: [])
        let format = try #require(chat["response_format"])
        #expect(format["type"] == "json_schema")
        #expect(format["json_schema"]?["name"] == "weather" && format["json_schema"]?["strict"] == true)
        #expect(format["json_schema"]?["description"] == "A forecast")
        #expect(format["json_schema"]?["schema"]?["properties"]?["t"]?["type"] == "number")
        #expect(format["name"] == nil && format["schema"] == nil)
        #expect(chat["verbosity"] == "low" && chat["reasoning_effort"] == "low" && chat["max_tokens"]?.intValue == 300)
        #expect(chat["temperature"]?.doubleValue == 0.2 && chat["top_p"]?.doubleValue == 0.9)
        // `parallel_tool_calls: false` is the gateway's to keep (some chat providers refuse it).
        #expect(chat["parallel_tool_calls"] == nil && chat["user"] == "u1" && chat["metadata"]?["k"] == "v")
        #expect(chat["service_tier"] == "flex" && chat["safety_identifier"] == "s1" && chat["prompt_cache_key"] == "p1")
        #expect(chat["top_logprobs"]?.intValue == 3 && chat["logprobs"] == true)
        #expect(chat["stream"] == true && chat["stream_options"] == .object(["include_usage": true]))
        for field in ["max_output_tokens", "reasoning", "text"] { #expect(chat[field] == nil, "\(field)") }

        let json = try ResponsesInbound.chatRequest(
            from: object(#"{"model":"m","input":"x","text":{"format":{"type":"json_object"}}}"#), history: [])
        #expect(json["response_format"] == .object(["type": "json_object"]))
    }

    @Test func functionToolsAreNested() throws {
        let chat = try ResponsesInbound.chatRequest(
            from: object(
                #"""
                {"model":"m","input":"x","tool_choice":{"type":"function","name":"get_weather"},
                 "tools":[{"type":"function","name":"get_weather","description":"Weather","strict":true,
                   "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}
                """#), history: [])
        let tool = try #require(chat["tools"]?.arrayValue?.first)
        #expect(tool["type"] == "function" && tool["name"] == nil)
        #expect(tool["function"]?["name"] == "get_weather" && tool["function"]?["description"] == "Weather")
        #expect(tool["function"]?["parameters"]?["properties"]?["city"]?["type"] == "string")
        #expect(tool["function"]?["strict"] == true)
        #expect(chat["tool_choice"] == .object(["type": "function", "function": .object(["name": "get_weather"])]))

        let required = try ResponsesInbound.chatRequest(
            from: object(#"{"model":"m","input":"x","tool_choice":"required","tools":[{"type":"function","name":"f"}]}"#),
            history: [])
        #expect(required["tool_choice"] == "required")
    }

    @Test func builtInToolsNeedAnOpenAIDeployment() throws {
        for (text, param) in [
            (#"{"model":"m","input":"x","tools":[{"type":"web_search"}]}"#, "tools[0].type"),
            (
                #"{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"file_search","vector_store_ids":["vs_1"]}]}"#,
                "tools[1].type"
            ),
        ] {
            let body = try object(text)
            do throws(GatewayError) {
                _ = try ResponsesInbound.chatRequest(from: body, history: [])
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(text)")
                #expect(error.message.contains("OpenAI or Azure"), "\(error.message)")
            }
        }
    }

    @Test func refusesMalformedRequestsNamingTheField() throws {
        let cases: [(String, String)] = [
            (#"{"input":"x"}"#, "model"),
            (#"{"model":"","input":"x"}"#, "model"),
            (#"{"model":"m"}"#, "input"),
            (#"{"model":"m","input":5}"#, "input"),
            (#"{"model":"m","input":"x","instructions":7}"#, "instructions"),
            (#"{"model":"m","input":"x","stream":"yes"}"#, "stream"),
            (#"{"model":"m","input":"x","store":"no"}"#, "store"),
            (#"{"model":"m","input":"x","previous_response_id":5}"#, "previous_response_id"),
            (#"{"model":"m","input":"x","metadata":{"a":1}}"#, "metadata.a"),
            (#"{"model":"m","input":[5]}"#, "input[0]"),
            (#"{"model":"m","input":[{"role":"tool","content":"x"}]}"#, "input[0].role"),
            (
                #"{"model":"m","input":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"input_text","text":"b"},{"type":"input_image","detail":"low"}]}]}"#,
                "input[1].content[1].image_url"
            ),
            (#"{"model":"m","input":[{"role":"user","content":[{"type":"input_audio"}]}]}"#, "input[0].content[0].type"),
            (#"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":3}]}]}"#, "input[0].content[0].text"),
            (#"{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}"#, "input[0].call_id"),
            (#"{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}"#, "input[0].output"),
            (#"{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}"#, "input[0].type"),
            (#"{"model":"m","input":[{"type":"web_search_call","id":"ws_1","status":"completed"}]}"#, "input[0].type"),
            (#"{"model":"m","input":"x","conversation":"conv_1"}"#, "conversation"),
            (#"{"model":"m","input":"x","background":true}"#, "background"),
            (#"{"model":"m","input":"x","text":{"format":{"type":"json_schema","schema":{}}}}"#, "text.format.name"),
            (#"{"model":"m","input":"x","tool_choice":{"type":"web_search"}}"#, "tool_choice.type"),
            (#"{"model":"m","input":"x","tools":[{"type":"function"}]}"#, "tools[0].name"),
            (#"{"model":"m","input":"x","max_output_tokens":0}"#, "max_output_tokens"),
        ]
        for (text, param) in cases {
            let body = try object(text)
            do throws(GatewayError) {
                _ = try ResponsesInbound.chatRequest(from: body, history: [])
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.status == 400 && error.param == param, "\(text): \(error.param ?? "nil")")
            }
        }
    }

    // MARK: Response: Chat → Responses

    @Test func textCompletionBecomesAMessageItem() throws {
        let request = try object(
            #"""
            {"model":"alias","input":"x","instructions":"Be brief.","temperature":0.2,"metadata":{"k":"v"},"store":false,
             "max_output_tokens":500}
            """#)
        let completion = try JSONParser.parse(
            #"""
            {"id":"chatcmpl-1","object":"chat.completion","created":1795608000,"model":"gpt-4.1-mini",
             "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Paris is sunny.",
               "refusal":null,"annotations":[{"type":"url_citation","url_citation":{"start_index":0,"end_index":5,
               "title":"Weather","url":"https://example.com/w"}}]}}],
             "usage":{"prompt_tokens":1250,"completion_tokens":73,"total_tokens":1323,"prompt_tokens_details":{"cached_tokens":1024}}}
            """#)
        let response = ResponsesInbound.response(
            fromCompletion: completion, request: request, id: "resp_abc", createdAt: 1_795_608_001)
        #expect(response["id"] == "resp_abc" && response["object"] == "response")
        #expect(response["created_at"]?.intValue == 1_795_608_001 && response["status"] == "completed")
        #expect(response["error"] == .null && response["incomplete_details"] == .null)
        #expect(response["model"] == "gpt-4.1-mini")
        let output = try #require(response["output"]?.arrayValue)
        #expect(output.count == 1)
        #expect(output[0]["type"] == "message" && output[0]["id"] == "msg_abc")
        #expect(output[0]["role"] == "assistant" && output[0]["status"] == "completed")
        let part = try #require(output[0]["content"]?.arrayValue?.first)
        #expect(part["type"] == "output_text" && part["text"] == "Paris is sunny.")
        let annotation = try #require(part["annotations"]?.arrayValue?.first)
        #expect(annotation["type"] == "url_citation" && annotation["url_citation"] == nil)
        #expect(annotation["start_index"]?.intValue == 0 && annotation["end_index"]?.intValue == 5)
        #expect(annotation["title"] == "Weather" && annotation["url"] == "https://example.com/w")
        #expect(
            response["usage"]
                == .object([
                    "input_tokens": .int(1250), "input_tokens_details": .object(["cached_tokens": .int(1024)]),
                    "output_tokens": .int(73), "output_tokens_details": .object(["reasoning_tokens": .int(0)]),
                    "total_tokens": .int(1323),
                ]))
        #expect(response["instructions"] == "Be brief." && response["temperature"]?.doubleValue == 0.2)
        #expect(response["metadata"] == .object(["k": "v"]) && response["store"] == false)
        #expect(response["max_output_tokens"]?.intValue == 500)

        let refused = ResponsesInbound.response(
            fromCompletion: try JSONParser.parse(
                #"{"model":"g","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":null,"refusal":"I can't help with that."}}]}"#
            ), request: request, id: "resp_abc", createdAt: 1)
        #expect(
            refused["output"]?.arrayValue?.first?["content"]
                == .array([.object(["type": "refusal", "refusal": "I can't help with that."])]))
    }

    @Test func toolCallsBecomeFunctionCallItems() throws {
        let completion = try JSONParser.parse(
            #"""
            {"id":"chatcmpl-2","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"finish_reason":"tool_calls",
              "message":{"role":"assistant","content":null,"tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}}],
             "usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120,
               "completion_tokens_details":{"reasoning_tokens":16}}}
            """#)
        let response = ResponsesInbound.response(
            fromCompletion: completion, request: try object(#"{"model":"m","input":"x"}"#), id: "resp_abc", createdAt: 1)
        #expect(response["status"] == "completed")
        #expect(
            response["output"]
                == .array([
                    .object([
                        "id": "fc_abc_0", "type": "function_call", "call_id": "call_1", "name": "get_weather",
                        "arguments": #"{"city":"Paris"}"#, "status": "completed",
                    ]),
                    .object([
                        "id": "fc_abc_1", "type": "function_call", "call_id": "call_2", "name": "get_weather",
                        "arguments": #"{"city":"Rome"}"#, "status": "completed",
                    ]),
                ]))
        #expect(response["usage"]?["output_tokens_details"]?["reasoning_tokens"]?.intValue == 16)
        #expect(response["usage"]?["input_tokens_details"]?["cached_tokens"]?.intValue == 0)

        // `parallel_tool_calls: false`: the first call only.
        let single = ResponsesInbound.response(
            fromCompletion: completion, request: try object(#"{"model":"m","input":"x","parallel_tool_calls":false}"#),
            id: "resp_abc", createdAt: 1)
        #expect(single["output"]?.arrayValue?.compactMap { $0["call_id"]?.stringValue } == ["call_1"])
        #expect(single["parallel_tool_calls"] == false)

        // Back to chat history: one assistant message with both calls.
        let calls: JSONValue = .array([
            .object([
                "id": "call_1", "type": "function",
                "function": .object(["name": "get_weather", "arguments": #"{"city":"Paris"}"#]),
            ]),
            .object([
                "id": "call_2", "type": "function",
                "function": .object(["name": "get_weather", "arguments": #"{"city":"Rome"}"#]),
            ]),
        ])
        let fromOutput = ResponsesInbound.chatMessages(fromOutput: response["output"]?.arrayValue ?? [])
        #expect(fromOutput.count == 1)
        #expect(fromOutput.first?["role"] == "assistant" && fromOutput.first?["tool_calls"] == calls)
    }

    @Test func lengthAndContentFilterAreIncomplete() throws {
        for (finish, reason) in [("length", "max_output_tokens"), ("content_filter", "content_filter")] {
            let completion = try JSONParser.parse(
                #"{"model":"g","choices":[{"index":0,"finish_reason":"\#(finish)","message":{"role":"assistant","content":"Par"}}]}"#
            )
            let response = ResponsesInbound.response(
                fromCompletion: completion, request: try object(#"{"model":"m","input":"x"}"#), id: "resp_abc", createdAt: 1)
            #expect(response["status"] == "incomplete", "\(finish)")
            #expect(response["incomplete_details"] == .object(["reason": .string(reason)]), "\(finish)")
        }
    }

    // MARK: Stream: chat chunks → Responses events

    @Test(.timeLimit(.minutes(1))) func textStreamFedByteByByte() throws {
        let stream = [
            chunk(#"[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{"content":"lo!"},"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{},"finish_reason":"stop"}]"#),
            chunk(#"[]"#, usage: #"{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}"#),
            "data: [DONE]\n\n",
        ].joined()
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: streamRequest, createdAt: 1_795_608_001)
        let (bytes, events) = try run(&encoder, Array(stream.utf8), pieceSize: 1)
        #expect(
            events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done", "response.completed",
            ])
        try expectWellFormed(events, bytes)

        let created = try #require(events[0].data["response"])
        #expect(created["id"] == "resp_abc" && created["status"] == "in_progress")
        #expect(created["output"] == .array([]) && created["usage"] == .null)
        let added = events[2].data
        #expect(added["output_index"]?.intValue == 0)
        #expect(added["item"]?["type"] == "message" && added["item"]?["id"] == "msg_abc")
        #expect(added["item"]?["status"] == "in_progress" && added["item"]?["role"] == "assistant")
        #expect(added["item"]?["content"] == .array([]))
        let partAdded = events[3].data
        #expect(partAdded["item_id"] == "msg_abc" && partAdded["content_index"]?.intValue == 0)
        #expect(partAdded["part"] == .object(["type": "output_text", "text": "", "annotations": .array([])]))
        #expect(events[4].data["delta"] == "Hel" && events[5].data["delta"] == "lo!")
        #expect(events[4].data["item_id"] == "msg_abc" && events[4].data["output_index"]?.intValue == 0)
        #expect(events[6].data["text"] == "Hello!")
        #expect(events[7].data["part"]?["text"] == "Hello!")
        let item = try #require(events[8].data["item"])
        #expect(item["status"] == "completed" && item["content"]?.arrayValue?.first?["text"] == "Hello!")

        let completed = try #require(events[9].data["response"])
        #expect(completed["status"] == "completed" && completed["id"] == "resp_abc")
        #expect(completed["output"] == .array([item]))
        #expect(completed["usage"]?["input_tokens"]?.intValue == 12 && completed["usage"]?["output_tokens"]?.intValue == 3)
        #expect(completed["usage"]?["total_tokens"]?.intValue == 15)
        #expect(encoder.finalResponse.map(JSONValue.object) == completed)
    }

    /// The recorded OpenAI stream (text, then one tool call) in 7-byte pieces.
    @Test(.timeLimit(.minutes(1))) func recordedStreamInAwkwardPieces() throws {
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: streamRequest, createdAt: 1_795_608_001)
        let (bytes, events) = try run(&encoder, try Fixture.bytes("openai/chat.stream.sse"), pieceSize: 7)
        var expected = [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        ]
        expected += Array(repeating: "response.output_text.delta", count: 8)
        expected += ["response.output_text.done", "response.content_part.done", "response.output_item.done"]
        expected += ["response.output_item.added"]
        expected += Array(repeating: "response.function_call_arguments.delta", count: 5)
        expected += ["response.function_call_arguments.done", "response.output_item.done", "response.completed"]
        #expect(events.map(\.name) == expected)
        try expectWellFormed(events, bytes)
        #expect(events[12].data["text"] == "Let me check the current weather in Paris.")
        let call = try #require(events[15].data["item"])
        #expect(events[15].data["output_index"]?.intValue == 1)
        #expect(
            call
                == .object([
                    "id": "fc_abc_0", "type": "function_call", "call_id": "call_mMCdN674VPmtFehhIRz5S16I",
                    "name": "get_weather", "arguments": "", "status": "in_progress",
                ]))
        #expect(events[21].data["arguments"] == #"{"city": "Paris", "unit": "celsius"}"#)
        let completed = try #require(events[23].data["response"])
        #expect(completed["output"]?.arrayValue?.map { $0["type"]?.stringValue ?? "" } == ["message", "function_call"])
        #expect(completed["usage"]?["input_tokens"]?.intValue == 312 && completed["usage"]?["total_tokens"]?.intValue == 353)
    }

    @Test(.timeLimit(.minutes(1))) func functionCallStreamEmitsFunctionCallEvents() throws {
        let stream = [
            chunk(
                #"[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]"#
            ),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]"#),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]"#),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null}]"#
            ),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"CET\"}"}}]},"finish_reason":null}]"#
            ),
            chunk(#"[{"index":0,"delta":{},"finish_reason":"tool_calls"}]"#),
            chunk(#"[]"#, usage: #"{"prompt_tokens":50,"completion_tokens":30,"total_tokens":80}"#),
            "data: [DONE]\n\n",
        ].joined()
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: streamRequest, createdAt: 1)
        let (bytes, events) = try run(&encoder, Array(stream.utf8), pieceSize: 5)
        #expect(
            events.map(\.name) == [
                "response.created", "response.in_progress",
                "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done",
                "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.done", "response.output_item.done",
                "response.completed",
            ])
        try expectWellFormed(events, bytes)
        #expect(events[2].data["output_index"]?.intValue == 0)
        #expect(
            events[2].data["item"]
                == .object([
                    "id": "fc_abc_0", "type": "function_call", "call_id": "call_1", "name": "get_weather",
                    "arguments": "", "status": "in_progress",
                ]))
        #expect(events[3].data["item_id"] == "fc_abc_0" && events[3].data["delta"] == #"{"city":"#)
        #expect(events[5].data["arguments"] == #"{"city":"Paris"}"#)
        #expect(events[6].data["item"]?["status"] == "completed")
        #expect(events[7].data["output_index"]?.intValue == 1 && events[7].data["item"]?["call_id"] == "call_2")
        #expect(events[7].data["item"]?["id"] == "fc_abc_1" && events[7].data["item"]?["name"] == "get_time")
        let completed = try #require(events[11].data["response"])
        #expect(completed["status"] == "completed")
        #expect(
            completed["output"]
                == .array([
                    .object([
                        "id": "fc_abc_0", "type": "function_call", "call_id": "call_1", "name": "get_weather",
                        "arguments": #"{"city":"Paris"}"#, "status": "completed",
                    ]),
                    .object([
                        "id": "fc_abc_1", "type": "function_call", "call_id": "call_2", "name": "get_time",
                        "arguments": #"{"tz":"CET"}"#, "status": "completed",
                    ]),
                ]))
    }

    /// `parallel_tool_calls: false` through chat: the stream gives the first call only, whatever
    /// the provider sent.
    @Test(.timeLimit(.minutes(1))) func parallelToolCallsOffStreamsTheFirstCallOnly() throws {
        let stream = [
            chunk(
                #"[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},"finish_reason":null}]"#
            ),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null}]"#
            ),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":\"CET\"}"}}]},"finish_reason":null}]"#
            ),
            chunk(#"[{"index":0,"delta":{},"finish_reason":"tool_calls"}]"#),
            "data: [DONE]\n\n",
        ].joined()
        let request = try object(#"{"model":"m","input":"x","stream":true,"parallel_tool_calls":false}"#)
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: request, createdAt: 1)
        let (bytes, events) = try run(&encoder, Array(stream.utf8), pieceSize: 7)
        try expectWellFormed(events, bytes)
        #expect(events.filter { $0.name == "response.output_item.added" }.count == 1)
        #expect(!events.contains { $0.data["delta"] == #"{"tz":"CET"}"# })
        let completed = try #require(events.last { $0.name == "response.completed" }?.data["response"])
        #expect(completed["output"]?.arrayValue?.compactMap { $0["call_id"]?.stringValue } == ["call_1"])

        // An upstream that reuses the index for its second call (with a new id): the dropped
        // call's fragments do not reach the first call's arguments.
        let reused = [
            chunk(
                #"[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},"finish_reason":null}]"#
            ),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\""}}]},"finish_reason":null}]"#
            ),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":\"CET\"}"}}]},"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{},"finish_reason":"tool_calls"}]"#),
            "data: [DONE]\n\n",
        ].joined()
        var second = ResponsesEventEncoder(id: "resp_abc", request: request, createdAt: 1)
        let (_, reusedEvents) = try run(&second, Array(reused.utf8), pieceSize: 11)
        let output = try #require(reusedEvents.last { $0.name == "response.completed" }?.data["response"]?["output"])
        #expect(output.arrayValue?.count == 1)
        #expect(output.arrayValue?.first?["call_id"] == "call_1" && output.arrayValue?.first?["arguments"] == "{}")
    }

    @Test(.timeLimit(.minutes(1))) func lengthEndsWithResponseIncomplete() throws {
        let stream = [
            chunk(#"[{"index":0,"delta":{"content":"Par"},"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{},"finish_reason":"length"}]"#),
            chunk(#"[]"#, usage: #"{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}"#),
            "data: [DONE]\n\n",
        ].joined()
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: streamRequest, createdAt: 1)
        let (bytes, events) = try run(&encoder, Array(stream.utf8), pieceSize: 3)
        try expectWellFormed(events, bytes)
        #expect(events.last?.name == "response.incomplete")
        let response = try #require(events.last?.data["response"])
        #expect(response["status"] == "incomplete")
        #expect(response["incomplete_details"] == .object(["reason": "max_output_tokens"]))
        #expect(response["usage"]?["output_tokens"]?.intValue == 1)
    }

    @Test(.timeLimit(.minutes(1))) func midStreamErrorEndsWithResponseFailed() throws {
        let stream = [
            chunk(#"[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]"#),
            #"data: {"error":{"message":"The upstream stream broke off.","type":"api_error","param":null,"code":"bad_upstream_response"}}"#,
            "\n\ndata: [DONE]\n\n",
        ].joined()
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: streamRequest, createdAt: 1)
        let (bytes, events) = try run(&encoder, Array(stream.utf8), pieceSize: 11)
        #expect(
            events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "error", "response.failed",
            ])
        try expectWellFormed(events, bytes)
        #expect(events[5].data["message"] == "The upstream stream broke off.")
        let failed = try #require(events[6].data["response"])
        #expect(failed["status"] == "failed")
        #expect(failed["error"]?["message"] == "The upstream stream broke off.")
        #expect(failed["error"]?["code"]?.stringValue != nil)
    }

    @Test(.timeLimit(.minutes(1))) func cutOffStreamEmitsNothingMore() throws {
        let stream = chunk(#"[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]"#)
        var encoder = ResponsesEventEncoder(id: "resp_abc", request: streamRequest, createdAt: 1)
        let (_, events) = try run(&encoder, Array(stream.utf8), pieceSize: 4)
        #expect(events.last?.name == "response.output_text.delta")
        #expect(encoder.finalResponse == nil)
    }

    // MARK: Helpers

    struct Event {
        var name: String
        var data: JSONValue
    }

    let streamRequest: JSONObject = ["model": "alias", "input": "x", "stream": true]

    func object(_ text: String) throws -> JSONObject {
        try #require(try JSONParser.parse(text).objectValue)
    }

    /// One `chat.completion.chunk` frame as the gateway relays it.
    func chunk(_ choices: String, usage: String = "null") -> String {
        #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1795608000,"model":"gpt-4.1-mini","choices":"#
            + choices + #","usage":"# + usage + "}\n\n"
    }

    /// Feeds `stream` in pieces of `pieceSize` bytes; returns what the encoder wrote and its events.
    func run(_ encoder: inout ResponsesEventEncoder, _ stream: [UInt8], pieceSize: Int) throws -> ([UInt8], [Event]) {
        var bytes: [UInt8] = []
        var start = 0
        while start < stream.count {
            let end = min(start + pieceSize, stream.count)
            bytes += encoder.encode(ByteBuffer(bytes: stream[start..<end]))
            start = end
        }
        var decoder = SSEDecoder()
        var events: [Event] = []
        for event in try decoder.feed(bytes) {
            events.append(Event(name: event.event ?? "", data: try JSONParser.parse(event.data)))
        }
        return (bytes, events)
    }

    /// Framing per §1.6: `event:` then `data:` and a blank line, `type` repeating the event name,
    /// sequence numbers 0…n, no `[DONE]`.
    func expectWellFormed(_ events: [Event], _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("event: response.created\ndata: {"), sourceLocation: sourceLocation)
        #expect(text.hasSuffix("}\n\n") && !text.contains("[DONE]"), sourceLocation: sourceLocation)
        let numbers = events.map { $0.data["sequence_number"]?.intValue ?? -1 }
        #expect(numbers == Array(0..<events.count), sourceLocation: sourceLocation)
        for event in events {
            #expect(event.data["type"]?.stringValue == event.name, sourceLocation: sourceLocation)
        }
    }
}
