import Foundation
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct GeminiAdapterTests {
    static let apiKey = "AIzaSyD-test-key-0123456789abcdefghijklm"
    let adapter = GeminiAdapter(platform: .aiStudio, environment: [:])
    let deployment = DeploymentConfig(
        modelName: "gemini", provider: "gemini", model: "gemini-2.5-flash", id: "d", apiKey: Self.apiKey)

    func translated(_ text: String, dropParams: Bool = false) throws -> JSONValue {
        var deployment = deployment
        deployment.dropParams = dropParams
        return try JSONParser.parse(try adapter.request(for: chat(text), deployment: deployment).body)
    }

    // MARK: Responses

    /// Scenario A: a thought part and a text part; cached prompt tokens and thoughts in usage.
    @Test func parsesScenarioA() throws {
        let expected = try #require(try Fixture.json("scenario-a.normalized.json")["gemini/generateContent.response.json"])
        var request = try chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#)
        request.includeReasoning = true
        let reply = try adapter.parseResponse(try Fixture.bytes("gemini/generateContent.response.json"), for: request)
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.totalTokens == expected["usage"]?["total_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == expected["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue)
        #expect(usage.reasoningTokens == expected["usage"]?["completion_tokens_details"]?["reasoning_tokens"]?.intValue)
        #expect(reply.finishReasons == [expected["finish_reason"]?.stringValue ?? "?"])
        #expect(reply.responseID == "kXQlaaCdJq2v1MkP8eGq2Ag" && reply.responseModel == "gemini-2.5-flash")
        let body = try JSONParser.parse(reply.body)
        let message = body["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == expected["content"])
        #expect(message?["reasoning_content"] == expected["reasoning_content"])
        #expect(
            body["usage"]
                == .object([
                    "prompt_tokens": .int(1250), "completion_tokens": .int(73), "total_tokens": .int(1323),
                    "prompt_tokens_details": .object(["cached_tokens": .int(1024)]),
                    "completion_tokens_details": .object(["reasoning_tokens": .int(64)]),
                ]))
        #expect(body["object"] == "chat.completion" && body["id"] == "kXQlaaCdJq2v1MkP8eGq2Ag")
    }

    /// A model whose candidate count already includes thoughts is not counted twice.
    @Test func thoughtsAreNotCountedTwice() throws {
        let usage = try #require(
            GeminiResponse.usage(
                try JSONParser.parse(
                    #"{"promptTokenCount":10,"candidatesTokenCount":30,"thoughtsTokenCount":20,"totalTokenCount":40}"#)))
        #expect(usage.outputTokens == 30 && usage.reasoningTokens == 20 && usage.inputTokens == 10)
    }

    @Test func safetyStopIsContentFilter() throws {
        let reply = try adapter.parseResponse(
            try Fixture.bytes("gemini/generateContent.safety-stop.json"),
            for: chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#))
        #expect(reply.finishReasons == ["content_filter"])
        let body = try JSONParser.parse(reply.body)
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "I can describe the general")
        #expect(reply.usage == Usage(inputTokens: 88, outputTokens: 5))
    }

    /// A blocked prompt has no candidates; it becomes a content-policy error (see GeminiResponse).
    @Test func blockedPromptIsAContentPolicyError() throws {
        let request = try chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#)
        let blocked = try Fixture.bytes("gemini/generateContent.blocked-prompt.json")
        do throws(GatewayError) {
            _ = try adapter.parseResponse(blocked, for: request)
            Issue.record("a blocked prompt was answered")
        } catch {
            #expect(error.isContentPolicyViolation && error.status == 400 && error.message.contains("PROHIBITED_CONTENT"))
        }
        // In a stream the same answer becomes an in-stream error, with no [DONE].
        let event = blocked.filter { $0 != 0x0A }
        let transcript = try StreamTranscript.decodeBytewise(
            Array("data: ".utf8) + event + Array("\r\n\r\n".utf8), with: adapter.makeStreamDecoder(for: streamedChat))
        #expect(transcript.errors.first?["code"] == "content_policy_violation" && !transcript.sawDone)
    }

    @Test func finishReasons() {
        #expect(GeminiResponse.finishReason("STOP", sawToolCall: false) == "stop")
        #expect(GeminiResponse.finishReason("STOP", sawToolCall: true) == "tool_calls")
        #expect(GeminiResponse.finishReason("MAX_TOKENS", sawToolCall: false) == "length")
        for reason in ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY", "IMAGE_OTHER"] {
            #expect(GeminiResponse.finishReason(reason, sawToolCall: false) == "content_filter", "\(reason)")
        }
        #expect(GeminiResponse.finishReason("MALFORMED_FUNCTION_CALL", sawToolCall: false) == "stop")
        #expect(GeminiResponse.finishReason(nil, sawToolCall: true) == nil)
    }

    @Test func malformedResponsesAreBadGateway() throws {
        let request = try chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#)
        let bodies = [
            "not json", "[]", #"{"candidates":[]}"#,
            #"{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]},"finishReason":"STOP"}]}"#,
            #"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":[1]}}]},"finishReason":"STOP"}]}"#,
        ]
        for body in bodies {
            do throws(GatewayError) {
                _ = try adapter.parseResponse(Array(body.utf8), for: request)
                Issue.record("accepted: \(body)")
            } catch {
                #expect(error.status == 502, "\(body)")
            }
        }
    }

    // MARK: Streams

    /// Scenario B fed one byte at a time: every read boundary, CRLF separators split too.
    @Test func decodesScenarioBOneByteAtATime() throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["gemini/streamGenerateContent.sse"])
        let transcript = try StreamTranscript.decodeBytewise(
            try Fixture.bytes("gemini/streamGenerateContent.sse"), with: adapter.makeStreamDecoder(for: streamedChat))
        try transcript.expectMatches(expected)
        #expect(transcript.toolCalls[0]?.id?.hasPrefix("call_") == true)
        #expect(transcript.errors.isEmpty)
    }

    /// Role chunk first; the whole call in one chunk; usage only after the finish, then [DONE].
    @Test func streamChunkOrder() throws {
        var decoder = adapter.makeStreamDecoder(for: streamedChat)
        let chunks = try decoder.feed(ByteBuffer(bytes: try Fixture.bytes("gemini/streamGenerateContent.sse"))) + decoder.finish()
        let objects = chunks.compactMap { chunk -> JSONObject? in
            if case .chunk(let object, _) = chunk { return object }
            return nil
        }
        guard case .done = chunks.last else {
            Issue.record("the stream does not end with [DONE]")
            return
        }
        let deltas = objects.map { $0["choices"]?.arrayValue?.first?["delta"] }
        #expect(deltas.first??["role"] == "assistant")
        #expect(objects.allSatisfy { $0["id"] == "mHwlaeGTL4eP1MkPy8ib-Aw" && $0["object"] == "chat.completion.chunk" })
        let calls = deltas.compactMap { $0?["tool_calls"]?.arrayValue?.first }
        let call = try #require(calls.first)
        #expect(call["index"]?.intValue == 0 && call["type"] == "function")
        #expect(call["function"]?["arguments"] == #"{"city":"Paris","unit":"celsius"}"#)
        #expect(objects.last?["choices"] == .array([]) && objects.last?["usage"]?["total_tokens"]?.intValue == 353)
        #expect(objects.dropLast().last?["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
    }

    @Test func midStreamErrorEventBecomesAnErrorChunk() throws {
        let stream =
            #"data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}]}"# + "\r\n\r\n"
            + #"data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"# + "\r\n\r\n"
        let transcript = try StreamTranscript.decodeBytewise(
            Array(stream.utf8), with: adapter.makeStreamDecoder(for: streamedChat))
        #expect(transcript.content == "Hi")
        #expect(transcript.errors.first?["code"] == "overloaded" && transcript.errors.first?["type"] == "overloaded_error")
        #expect(!transcript.sawDone)
    }

    /// Errors can also arrive as raw, pretty-printed JSON that is not SSE-framed.
    @Test func rawJSONErrorInAStreamIsRecognised() throws {
        let stream =
            #"data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}]}"# + "\r\n\r\n"
            + "{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"Resource exhausted {sic}.\",\n    \"status\": \"RESOURCE_EXHAUSTED\"\n  }\n}\n"
        let transcript = try StreamTranscript.decodeBytewise(
            Array(stream.utf8), with: adapter.makeStreamDecoder(for: streamedChat))
        #expect(transcript.errors.first?["code"] == "rate_limit_exceeded")
        #expect(transcript.errors.first?["message"] == "Resource exhausted {sic}.")
        #expect(!transcript.sawDone)
    }

    @Test func truncatedOrMalformedStreamsAreBadGateway() throws {
        let fixture = try Fixture.bytes("gemini/streamGenerateContent.sse")
        let cut = String(decoding: fixture, as: UTF8.self).components(separatedBy: "\r\n\r\n").prefix(2).joined(
            separator: "\r\n\r\n")
        let streams = [
            cut + "\r\n\r\n",  // closed before the finish reason
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"te\r\n\r\n",  // not JSON
            "",  // nothing at all
            "{\n \"error\": {\n",  // a raw document never closed
        ]
        for stream in streams {
            #expect(throws: GatewayError.self, "\(stream)") {
                _ = try StreamTranscript.decodeBytewise(Array(stream.utf8), with: adapter.makeStreamDecoder(for: streamedChat))
            }
        }
    }

    // MARK: Errors

    @Test func errorFixtures() throws {
        let badKey = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("gemini/error.invalid_api_key.json"), deployment: deployment)
        #expect(
            badKey.status == 401 && badKey.type == "authentication_error" && badKey.code == "invalid_api_key"
                && !badKey.isRetryable)

        let tooLong = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("gemini/error.context_too_long.json"), deployment: deployment)
        #expect(tooLong.isContextWindowExceeded && tooLong.status == 400 && tooLong.type == "invalid_request_error")

        let exhausted = adapter.mapError(
            status: 429, headers: [:], body: try Fixture.bytes("gemini/error.resource_exhausted.json"), deployment: deployment)
        #expect(exhausted.status == 429 && exhausted.code == "rate_limit_exceeded" && exhausted.isRetryable)
        #expect(exhausted.headers["retry-after"] == "17" && exhausted.errorType == "RESOURCE_EXHAUSTED")

        let cases: [(Int, String, Int, String)] = [
            (403, "PERMISSION_DENIED", 403, "permission_denied"), (503, "UNAVAILABLE", 503, "overloaded"),
            (404, "NOT_FOUND", 404, "model_not_found"), (504, "DEADLINE_EXCEEDED", 504, "timeout"),
            (500, "INTERNAL", 500, "internal_error"), (400, "FAILED_PRECONDITION", 400, "failed_precondition"),
        ]
        for (http, status, wantStatus, wantCode) in cases {
            let body = #"{"error":{"code":\#(http),"message":"m","status":"\#(status)"}}"#
            let error = adapter.mapError(status: http, headers: [:], body: Array(body.utf8), deployment: deployment)
            #expect(error.status == wantStatus && error.code == wantCode, "\(status)")
        }
        // Vertex's array-wrapped form, a fractional retry delay, and a body that is not JSON.
        let wrapped = adapter.mapError(
            status: 429, headers: [:],
            body: Array(
                #"[{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.5s"}]}}]"#
                    .utf8),
            deployment: deployment)
        #expect(wrapped.status == 429 && wrapped.headers["retry-after"] == "1")
        let opaque = adapter.mapError(
            status: 502, headers: ["retry-after": "3"], body: Array("<html>".utf8), deployment: deployment)
        #expect(opaque.status == 502 && opaque.headers["retry-after"] == "3")
    }

    /// The key never reaches a URL or an error message, even when the upstream quotes it.
    @Test func theKeyNeverLeaks() throws {
        let upstream = try adapter.request(
            for: chat(#"{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true}"#), deployment: deployment)
        #expect(!upstream.url.contains(Self.apiKey) && !upstream.url.contains("key="))
        #expect(upstream.headers.first(name: "x-goog-api-key") == Self.apiKey)
        let quoted =
            #"{"error":{"code":400,"message":"API key not valid: \#(Self.apiKey)","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#
        let error = adapter.mapError(status: 400, headers: [:], body: Array(quoted.utf8), deployment: deployment)
        #expect(error.status == 401 && !error.message.contains(Self.apiKey) && !error.message.contains("AIza"))
        // Another Google key (not the deployment's) is recognised by its shape, also in streams.
        let other = "AIzaSyOther-key-abcdefghijklmnopqrstuvwx"
        #expect(!GeminiError.scrub("key \(other) was refused", secrets: []).contains(other))
        let stream = #"data: {"error":{"code":400,"message":"bad \#(other)","status":"INVALID_ARGUMENT"}}"# + "\r\n\r\n"
        let transcript = try StreamTranscript.decodeBytewise(
            Array(stream.utf8), with: adapter.makeStreamDecoder(for: streamedChat))
        #expect(transcript.errors.first?["message"]?.stringValue?.contains(other) == false)
    }

    // MARK: Requests

    @Test func urls() throws {
        let request = try chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#)
        let plain = try adapter.request(for: request, deployment: deployment)
        #expect(plain.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")
        let stream = try adapter.request(
            for: chat(#"{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true}"#), deployment: deployment)
        #expect(
            stream.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        )
        var custom = deployment
        custom.apiBase = "http://127.0.0.1:9/v1/"
        custom.model = "models/gemini-2.5-pro"
        #expect(
            try adapter.request(for: request, deployment: custom).url
                == "http://127.0.0.1:9/v1/models/gemini-2.5-pro:generateContent")
        custom.apiBase = "http://proxy.internal"
        custom.apiVersion = "v1"
        #expect(
            try adapter.request(for: request, deployment: custom).url
                == "http://proxy.internal/v1/models/gemini-2.5-pro:generateContent")
        custom.model = "gemini/../../x?y"
        #expect(throws: GatewayError.self) { try adapter.request(for: request, deployment: custom) }
    }

    @Test func vertexURLs() throws {
        let vertex = GeminiAdapter(platform: .vertexAI, environment: ["VERTEXAI_PROJECT": "env-project"])
        let request = try chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#)
        var regional = DeploymentConfig(modelName: "g", provider: "vertex_ai", model: "gemini-2.5-pro", id: "v")
        regional.providerParams = ["vertex_project": "my-project", "vertex_location": "europe-west4"]
        let upstream = try vertex.request(for: request, deployment: regional)
        #expect(
            upstream.url
                == "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
        )
        #expect(upstream.headers.first(name: "x-goog-api-key") == nil)
        var global = DeploymentConfig(modelName: "g", provider: "vertex_ai", model: "gemini-2.5-pro", id: "v")
        global.providerParams = ["vertex_location": "global"]
        let stream = try vertex.request(
            for: chat(#"{"model":"g","messages":[{"role":"user","content":"x"}],"stream":true}"#), deployment: global)
        #expect(
            stream.url
                == "https://aiplatform.googleapis.com/v1/projects/env-project/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        )
        #expect(vertex.genAIProviderName == "gcp.vertex_ai" && adapter.genAIProviderName == "gcp.gemini")
        // The location becomes part of the host: anything else is refused.
        global.providerParams["vertex_location"] = "evil.example/x"
        #expect(throws: GatewayError.self) { try vertex.request(for: request, deployment: global) }
        let noProject = GeminiAdapter(platform: .vertexAI, environment: [:])
        #expect(throws: GatewayError.self) { try noProject.request(for: request, deployment: regional.withoutProject) }
    }

    /// Scenario B's follow-up turn with an image, checked field by field.
    @Test func translatesTheConversation() throws {
        let body = try translated(
            #"""
            {"model":"g","max_completion_tokens":256,"temperature":0.2,"top_p":0.9,"n":2,"seed":7,"stop":"END","stream":true,
             "messages":[{"role":"system","content":"You are a weather assistant."},
               {"role":"user","content":[{"type":"text","text":"What's the weather in Paris right now?"},
                 {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
                 {"type":"image_url","image_url":{"url":"gs://bucket/photo.webp"}}]},
               {"role":"assistant","content":"Let me check the current weather in Paris.","tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}}]},
               {"role":"tool","tool_call_id":"call_abc","content":"{\"temp_c\":18,\"sky\":\"cloudy\"}"},
               {"role":"user","content":"Thanks"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "tool_choice":"required"}
            """#)
        #expect(body["systemInstruction"] == .object(["parts": .array([.object(["text": "You are a weather assistant."])])]))
        let contents = try #require(body["contents"]?.arrayValue)
        #expect(contents.map { $0["role"]?.stringValue ?? "" } == ["user", "model", "user"])
        let userParts = try #require(contents[0]["parts"]?.arrayValue)
        #expect(userParts[0] == .object(["text": "What's the weather in Paris right now?"]))
        #expect(userParts[1] == .object(["inlineData": .object(["mimeType": "image/png", "data": "iVBORw0KGgo="])]))
        #expect(userParts[2] == .object(["fileData": .object(["mimeType": "image/webp", "fileUri": "gs://bucket/photo.webp"])]))
        let modelParts = try #require(contents[1]["parts"]?.arrayValue)
        #expect(modelParts[0] == .object(["text": "Let me check the current weather in Paris."]))
        #expect(
            modelParts[1]["functionCall"]?["name"] == "get_weather"
                && modelParts[1]["functionCall"]?["args"]?["unit"] == "celsius")
        // The result carries the name found from the call's id, and the tool's JSON under `output`;
        // the following user text joins the same user turn.
        let resultTurn = try #require(contents[2]["parts"]?.arrayValue)
        #expect(resultTurn[0]["functionResponse"]?["name"] == "get_weather")
        #expect(
            resultTurn[0]["functionResponse"]?["response"] == .object(["output": .object(["temp_c": .int(18), "sky": "cloudy"])]))
        #expect(resultTurn[1] == .object(["text": "Thanks"]))
        let declaration = body["tools"]?.arrayValue?.first?["functionDeclarations"]?.arrayValue?.first
        #expect(declaration?["name"] == "get_weather" && declaration?["description"] == "Current weather for a city")
        #expect(declaration?["parametersJsonSchema"]?["required"] == .array(["city"]))
        #expect(body["toolConfig"] == .object(["functionCallingConfig": .object(["mode": "ANY"])]))
        #expect(
            body["generationConfig"]
                == .object([
                    "maxOutputTokens": .int(256), "temperature": .number("0.2"), "topP": .number("0.9"),
                    "candidateCount": .int(2),
                    "seed": .int(7), "stopSequences": .array(["END"]),
                ]))
        #expect(body["stream"] == nil && body["model"] == nil && body["messages"] == nil)
    }

    @Test func toolChoiceJSONModeAndThinking() throws {
        let named = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}"#
        )
        #expect(named["toolConfig"]?["functionCallingConfig"] == .object(["mode": "ANY", "allowedFunctionNames": .array(["f"])]))
        #expect(named["tools"]?.arrayValue?.first?["functionDeclarations"] == .array([.object(["name": "f"])]))
        let none = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"tool_choice":"none","safety_settings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"}]}"#
        )
        #expect(none["toolConfig"]?["functionCallingConfig"]?["mode"] == "NONE")
        #expect(none["safetySettings"]?.arrayValue?.first?["threshold"] == "BLOCK_NONE")

        let jsonObject = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"stop":["a","b"]}"#
        )
        #expect(
            jsonObject["generationConfig"]
                == .object(["stopSequences": .array(["a", "b"]), "responseMimeType": "application/json"]))
        let schema = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object","properties":{"t":{"type":"number"}}}}}}"#
        )
        #expect(schema["generationConfig"]?["responseMimeType"] == "application/json")
        #expect(schema["generationConfig"]?["responseJsonSchema"]?["properties"]?["t"]?["type"] == "number")

        let effort = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"reasoning_effort":"low","max_tokens":100}"#)
        #expect(
            effort["generationConfig"]
                == .object(["maxOutputTokens": .int(100), "thinkingConfig": .object(["thinkingBudget": .int(1024)])]))
        let thinking = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":512}}"#)
        #expect(
            thinking["generationConfig"]?["thinkingConfig"] == .object(["includeThoughts": true, "thinkingBudget": .int(512)]))

        // A system-only prompt is asked as the user, since Gemini refuses empty contents.
        let systemOnly = try translated(#"{"model":"g","messages":[{"role":"developer","content":"Say hi"}]}"#)
        #expect(systemOnly["systemInstruction"] == nil)
        #expect(systemOnly["contents"] == .array([.object(["role": "user", "parts": .array([.object(["text": "Say hi"])])])]))
    }

    /// A function call's thought signature rides in the tool-call id and goes back on the same part.
    @Test func thoughtSignaturesRoundTrip() throws {
        let answer =
            #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"c2lnbmF0dXJl"}]},"finishReason":"STOP","index":0}]}"#
        let reply = try adapter.parseResponse(
            Array(answer.utf8), for: chat(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#))
        let call = try #require(
            try JSONParser.parse(reply.body)["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first)
        let id = try #require(call["id"]?.stringValue)
        #expect(id.hasPrefix("call_") && id.hasSuffix("__thought__c2lnbmF0dXJl") && reply.finishReasons == ["tool_calls"])

        let history =
            #"{"model":"g","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"\#(id)","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"\#(id)","content":"ok"}]}"#
        let body = try translated(history)
        let modelTurn = try #require(body["contents"]?.arrayValue?[1]["parts"]?.arrayValue?.first)
        #expect(modelTurn["thoughtSignature"] == "c2lnbmF0dXJl" && modelTurn["functionCall"]?["name"] == "f")
        #expect(body["contents"]?.arrayValue?[2]["parts"]?.arrayValue?.first?["functionResponse"]?["name"] == "f")

        // A call without a signature: Google's stand-in on Gemini 3, nothing on older models.
        let foreign =
            #"{"model":"g","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}"#
        var gemini3 = deployment
        gemini3.model = "gemini-3-pro-preview"
        let three = try JSONParser.parse(try adapter.request(for: chat(foreign), deployment: gemini3).body)
        #expect(
            three["contents"]?.arrayValue?[1]["parts"]?.arrayValue?.first?["thoughtSignature"]
                == "skip_thought_signature_validator")
        #expect(try translated(foreign)["contents"]?.arrayValue?[1]["parts"]?.arrayValue?.first?["thoughtSignature"] == nil)
    }

    @Test func refusalsNameTheParameter() throws {
        let refusals: [(String, String)] = [
            (#"{"model":"g","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":2}}"#, "logit_bias"),
            (#"{"model":"g","messages":[{"role":"user","content":"x"}],"parallel_tool_calls":false}"#, "parallel_tool_calls"),
            (
                #"{"model":"g","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}"#,
                "response_format.type"
            ),
            (#"{"model":"g","messages":[{"role":"user","content":"x"}],"reasoning_effort":"huge"}"#, "reasoning_effort"),
            (#"{"model":"g","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"allowed_tools"}}"#, "tool_choice"),
            (
                #"{"model":"g","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"c"}}]}"#,
                "tools[0].type"
            ),
            (
                #"{"model":"g","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}"#,
                "messages[0].tool_calls[0].function.arguments"
            ),
            (
                #"{"model":"g","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"1"}]}"#,
                "messages[1].tool_call_id"
            ),
            (
                #"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}"#,
                "messages[0].content[0].image_url.url"
            ),
            (
                #"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}"#,
                "messages[0].content[0].image_url.url"
            ),
            (
                #"{"model":"g","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},{"role":"user","content":"x"}]}"#,
                "messages[0].content[0]"
            ),
            (#"{"model":"g","messages":[{"role":"function","name":"f","content":"x"}]}"#, "messages[0].role"),
        ]
        for (text, param) in refusals {
            let request = try chat(text)
            do throws(GatewayError) {
                _ = try adapter.request(for: request, deployment: deployment)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.param == param && error.status == 400, "\(text): \(error.message)")
            }
        }
        // With drop_params, parameters Gemini cannot honour are left out instead.
        let dropped = try translated(
            #"{"model":"g","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":2},"parallel_tool_calls":false,"temperature":1}"#,
            dropParams: true)
        #expect(dropped["generationConfig"] == .object(["temperature": .int(1)]) && dropped["logit_bias"] == nil)
    }

    // MARK: Embeddings

    @Test func embeddings() throws {
        let request = try OpenAIRequest(
            operation: .embeddings, bytes: Array(#"{"model":"e","input":["a","b"],"dimensions":3}"#.utf8))
        var embedding = deployment
        embedding.model = "text-embedding-004"
        let studio = try adapter.request(for: request, deployment: embedding)
        #expect(studio.url == "https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:batchEmbedContents")
        let studioBody = try JSONParser.parse(studio.body)
        #expect(studioBody["requests"]?.arrayValue?.count == 2)
        #expect(
            studioBody["requests"]?.arrayValue?.last
                == .object([
                    "model": "models/text-embedding-004", "content": .object(["parts": .array([.object(["text": "b"])])]),
                    "outputDimensionality": .int(3),
                ]))
        let studioReply = try adapter.parseResponse(
            Array(#"{"embeddings":[{"values":[0.5,-1,0.25]},{"values":[1,2,3]}]}"#.utf8), for: request)
        let list = try JSONParser.parse(studioReply.body)
        #expect(list["object"] == "list" && list["data"]?.arrayValue?.count == 2)
        #expect(list["data"]?.arrayValue?.first?["embedding"] == .array([.number("0.5"), .number("-1"), .number("0.25")]))
        #expect(studioReply.usage == nil)

        let vertex = GeminiAdapter(platform: .vertexAI, environment: ["VERTEXAI_PROJECT": "p"])
        let base64 = try OpenAIRequest(
            operation: .embeddings, bytes: Array(#"{"model":"e","input":"a","encoding_format":"base64"}"#.utf8))
        let predict = try vertex.request(for: base64, deployment: embedding)
        #expect(predict.url.hasSuffix("/projects/p/locations/us-central1/publishers/google/models/text-embedding-004:predict"))
        #expect(try JSONParser.parse(predict.body) == .object(["instances": .array([.object(["content": "a"])])]))
        let vertexReply = try vertex.parseResponse(
            Array(
                #"{"predictions":[{"embeddings":{"values":[1.0,-2.0],"statistics":{"token_count":4,"truncated":false}}}]}"#.utf8),
            for: base64)
        #expect(vertexReply.usage == Usage(inputTokens: 4, outputTokens: 0))
        let encoded = try #require(try JSONParser.parse(vertexReply.body)["data"]?.arrayValue?.first?["embedding"]?.stringValue)
        let floats = try #require(Data(base64Encoded: encoded)).withUnsafeBytes { raw in
            (0..<2).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        #expect(floats == [1, -2])

        let tokens = try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"e","input":[[1,2]]}"#.utf8))
        #expect(throws: GatewayError.self) { try adapter.request(for: tokens, deployment: embedding) }
    }
}

extension DeploymentConfig {
    fileprivate var withoutProject: DeploymentConfig {
        var copy = self
        copy.providerParams["vertex_project"] = nil
        return copy
    }
}
