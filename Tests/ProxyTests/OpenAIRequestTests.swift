import Testing

@testable import Proxy

@Suite struct OpenAIRequestTests {
    func parse(_ text: String, _ operation: OpenAIRequest.Operation = .chat) throws(GatewayError) -> OpenAIRequest {
        try OpenAIRequest(operation: operation, bytes: Array(text.utf8))
    }

    func error(_ text: String, _ operation: OpenAIRequest.Operation = .chat) -> GatewayError? {
        do {
            _ = try parse(text, operation)
            return nil
        } catch {
            return error
        }
    }

    @Test func validChatKeepsTheBodyAsWritten() throws {
        let request = try parse(
            #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"x_vendor":{"k":1}}"#
        )
        #expect(request.model == "m" && request.stream && request.clientWantsStreamUsage)
        #expect(request.body.keys == ["model", "messages", "stream", "stream_options", "x_vendor"])
    }

    @Test(arguments: [
        (#"{"model":"m","messages":"not-a-list"}"#, "messages", "'messages' must be an array, found string."),
        (#"{"messages":[]}"#, "model", "'model' is required."),
        (#"{"model":5,"messages":[]}"#, "model", "'model' must be a string, found number."),
        (#"{"model":"m","messages":[]}"#, "messages", "'messages' must contain at least one message."),
        (#"{"model":"m","messages":[3]}"#, "messages[0]", "'messages[0]' must be an object, found number."),
        (#"{"model":"m","messages":[{"content":"x"}]}"#, "messages[0].role", "'messages[0].role' must be a string."),
        (#"{"model":"m","messages":[{"role":"user"}],"stream":"yes"}"#, "stream", "'stream' must be a boolean, found string."),
        (
            #"{"model":"m","messages":[{"role":"user"}],"temperature":"hot"}"#, "temperature",
            "'temperature' must be a number, found string."
        ),
        (
            #"{"model":"m","messages":[{"role":"user"}],"max_tokens":1.5}"#, "max_tokens",
            "'max_tokens' must be an integer, found number."
        ),
        (#"{"model":"m","messages":[{"role":"user"}],"n":0}"#, "n", "'n' must be at least 1."),
        (#"{"model":"m","messages":[{"role":"user"}],"stop":[1]}"#, "stop", "'stop' must be a string or an array of strings."),
        (
            #"{"model":"m","messages":[{"role":"user"}],"stream_options":{"include_usage":1}}"#, "stream_options.include_usage",
            "'stream_options.include_usage' must be a boolean, found number."
        ),
        (
            #"{"model":"m","messages":[{"role":"user"}],"api_base":"http://169.254.169.254"}"#, "api_base",
            "'api_base' cannot be set by a client: upstreams are chosen by the gateway's configuration."
        ),
    ])
    func badFieldsAreNamed(body: String, param: String, message: String) {
        let e = error(body)
        #expect(e?.status == 400 && e?.param == param && e?.message == message, "\(String(describing: e))")
    }

    @Test func malformedJSONSaysWhere() {
        let e = error(#"{"model": "m", "messages": ["#)
        #expect(e?.status == 400 && e?.code == "invalid_json")
        #expect(e?.message.contains("at byte 28") == true)
        #expect(error("[]")?.message == "Request body must be a JSON object, found array.")
    }

    /// A body that would build more than the parser's element bound is refused as a 400 that
    /// names the body, before any tree of that size exists.
    @Test func hugeTreeIsRefusedAsABadBody() throws {
        let input = Array(repeating: "[0]", count: 1_000_001).joined(separator: ",")
        let body = #"{"model":"m","input":["# + input + "]}"
        let refused = try #require(error(body, .embeddings))
        #expect(refused.status == 400 && refused.code == "invalid_json")
        #expect(refused.message.hasPrefix("Request body is not valid JSON: more than 1000000 array elements"))
    }

    @Test func embeddingsInput() {
        #expect(error(#"{"model":"e","input":"a"}"#, .embeddings) == nil)
        #expect(error(#"{"model":"e","input":["a","b"]}"#, .embeddings) == nil)
        #expect(error(#"{"model":"e","input":[[1,2],[3]]}"#, .embeddings) == nil)
        #expect(error(#"{"model":"e"}"#, .embeddings)?.param == "input")
        #expect(error(#"{"model":"e","input":[]}"#, .embeddings)?.param == "input")
        #expect(error(#"{"model":"e","input":["a",1]}"#, .embeddings)?.param == "input")
    }

    @Test func spanAttributesFromParameters() throws {
        let request = try parse(
            #"{"model":"m","messages":[{"role":"user"}],"max_tokens":50,"temperature":0.2,"top_p":1,"stop":"END","seed":7,"n":2,"stream":true}"#
        )
        let attributes = Dictionary(uniqueKeysWithValues: request.spanAttributes.compactMap { k, v in v.map { (k, $0) } })
        #expect(attributes["gen_ai.request.max_tokens"] == .int(50))
        #expect(attributes["gen_ai.request.temperature"] == .double(0.2))
        #expect(attributes["gen_ai.request.top_p"] == .double(1))
        #expect(attributes["gen_ai.request.stop_sequences"] == .stringArray(["END"]))
        #expect(attributes["gen_ai.request.seed"] == .int(7))
        #expect(attributes["gen_ai.request.choice.count"] == .int(2))
        #expect(attributes["gen_ai.request.stream"] == .bool(true))
    }
}
