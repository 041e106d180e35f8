import Foundation
import GatewayTesting
import HTTPTypes
import Hummingbird
import Synchronization
import Telemetry
import Testing

@testable import Proxy

/// The Responses API's state beyond create, retrieve and delete: the input items of a kept
/// response (`GET /v1/responses/{id}/input_items`, endpoints.md §1.1: newest first by default,
/// `after` an item id, `limit` 1–100, `{object:"list", data, first_id, last_id, has_more}`) and
/// the input tokens of a request (`POST /v1/responses/input_tokens`,
/// `{object:"response.input_tokens", input_tokens}`), both through the kept conversation.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ResponsesStateTests {
    /// Without rank files every model is estimated (⌈bytes ÷ 4⌉ of the prompt's texts), so the
    /// expected counts follow from the texts alone.
    static let config = """
        general_settings: {master_key: \(Harness.master)}
        spanway_settings: {tokenizer_dir: "/nonexistent/spanway-tokenizers"}
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: claude
            litellm_params: {model: anthropic/claude-mock, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
        """

    /// Creates a response and returns its id.
    static func create(_ h: Harness, _ body: String, key: String = Harness.master) async throws -> String {
        let reply = try await h.send("/v1/responses", json: body, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        return try #require(reply.json?["id"]?.stringValue)
    }

    static func ids(_ reply: Harness.Reply) -> [String] {
        reply.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    @Test func inputItemsListTheWholeConversationAPageAtATime() async throws {
        try await Harness.with(config: Self.config) { h in
            // LiteLLM's route group for the OpenAI API covers the Responses API's sub-resources.
            let key = try await h.newKey(#"{"allowed_routes":["openai_routes"]}"#)
            // Turn one natively (OpenAI), turn two through chat (Anthropic), continuing it.
            let first = try await Self.create(h, #"{"model":"gpt-4o-mini","input":"My name is Ada."}"#, key: key)
            let second = try await Self.create(
                h,
                #"{"model":"claude","previous_response_id":"\#(first)","input":[{"role":"user","content":"What is my name?"}]}"#,
                key: key)

            let listed = try await h.send("/v1/responses/\(second)/input_items", method: .GET, key: key)
            #expect(listed.status == 200, "\(listed.text)")
            let data = try #require(listed.json?["data"]?.arrayValue)
            // Newest first: this turn's input, the first turn's answer, the first turn's input.
            #expect(data.map { $0["role"]?.stringValue } == ["user", "assistant", "user"])
            #expect(data.allSatisfy { $0["type"] == "message" && $0["id"]?.stringValue?.isEmpty == false })
            #expect(data[0]["content"] == .array([.object(["type": "input_text", "text": "What is my name?"])]))
            #expect(data[1]["content"]?.arrayValue?.first?["text"]?.stringValue == MockUpstream.text)
            #expect(data[2]["content"] == .array([.object(["type": "input_text", "text": "My name is Ada."])]))
            let all = Self.ids(listed)
            #expect(Set(all).count == 3, "item ids are distinct")
            #expect(listed.json?["object"] == "list" && listed.json?["has_more"] == false)
            #expect(listed.json?["first_id"]?.stringValue == all.first && listed.json?["last_id"]?.stringValue == all.last)

            // Oldest first, a page of one, then the pages after it.
            var pages: [[String]] = []
            var after: String?
            repeat {
                let query = "order=asc&limit=1" + (after.map { "&after=\($0)" } ?? "")
                let page = try await h.send("/v1/responses/\(second)/input_items?\(query)", method: .GET, key: key)
                #expect(page.status == 200, "\(page.text)")
                pages.append(Self.ids(page))
                after = page.json?["has_more"] == true ? page.json?["last_id"]?.stringValue : nil
            } while after != nil && pages.count < 5
            #expect(pages == all.reversed().map { [$0] })

            // Two items a client sent with one id: paging still ends, each item once.
            let twice = #"{"id":"msg_x","type":"message","role":"user","content":"a"}"#
            let doubled = try await Self.create(
                h, #"{"model":"gpt-4o-mini","input":[\#(twice),\#(twice.replacingOccurrences(of: "\"a\"", with: "\"b\""))]}"#,
                key: key)
            var seen: [String] = []
            var cursor = ""
            for _ in 0..<4 {
                let page = try await h.send(
                    "/v1/responses/\(doubled)/input_items?order=asc&limit=1\(cursor)", method: .GET, key: key)
                seen += Self.ids(page)
                guard page.json?["has_more"] == true, let last = page.json?["last_id"]?.stringValue else { break }
                cursor = "&after=\(last)"
            }
            #expect(seen == ["msg_x", "msg_x_1"])

            // The first response's items are its input alone.
            let firstItems = try await h.send("/v1/responses/\(first)/input_items", method: .GET, key: key)
            #expect(firstItems.json?["data"]?.arrayValue?.count == 1)

            for (query, param) in [("limit=0", "limit"), ("limit=101", "limit"), ("order=up", "order"), ("after=nope", "after")] {
                let refused = try await h.send("/v1/responses/\(second)/input_items?\(query)", method: .GET, key: key)
                #expect(refused.status == 400, "\(query): \(refused.text)")
                #expect(refused.json?["error"]?["param"]?.stringValue == param, "\(query): \(refused.text)")
            }
            // Another key does not see them; the master key does.
            let other = try await h.newKey()
            let hidden = try await h.send("/v1/responses/\(second)/input_items", method: .GET, key: other)
            #expect(hidden.status == 404, "\(hidden.text)")
            let master = try await h.send("/v1/responses/\(second)/input_items", method: .GET)
            #expect(Self.ids(master) == all)
        }
    }

    /// OpenAI keeps its own responses (unless told not to): deleting one the gateway got from a
    /// native deployment deletes it there too, with the deployment's key; one answered through
    /// chat exists only at the gateway.
    @Test func deletingANativeResponseDeletesItAtItsProvider() async throws {
        try await Harness.with(config: Self.config) { h in
            let key = try await h.newKey()
            let native = try await Self.create(h, #"{"model":"gpt-4o-mini","input":"hi"}"#, key: key)
            #expect(try await h.send("/v1/responses/\(native)", method: .DELETE, key: key).status == 200)
            let deletes = h.upstream.requests.withLock { $0 }.filter { $0.method == .DELETE }
            #expect(deletes.map(\.url) == ["/v1/responses/\(native)"])
            #expect(deletes.first?.headers.first(name: "authorization") == "Bearer \(Harness.upstreamKey)")

            let translated = try await Self.create(h, #"{"model":"claude","input":"hi"}"#, key: key)
            #expect(try await h.send("/v1/responses/\(translated)", method: .DELETE, key: key).status == 200)
            #expect(h.upstream.requests.withLock { $0 }.filter { $0.method == .DELETE }.count == 1)
            // Another key's delete, or a second one, is a 404 and reaches no provider.
            let other = try await h.newKey()
            let kept = try await Self.create(h, #"{"model":"gpt-4o-mini","input":"hello"}"#, key: key)
            #expect(try await h.send("/v1/responses/\(kept)", method: .DELETE, key: other).status == 404)
            #expect(try await h.send("/v1/responses/\(native)", method: .DELETE, key: key).status == 404)
            #expect(h.upstream.requests.withLock { $0 }.filter { $0.method == .DELETE }.count == 1)
        }
    }

    /// A delete the provider cannot carry out (a 503) is the client's error, and the gateway
    /// keeps its copy, so the client can try again; the retry deletes both. Counts and deletes
    /// carry the deployment's `extra_headers` as model calls do (an OpenAI project here: without
    /// it the provider would look in the wrong project). A provider without a count endpoint
    /// (404) is counted by the gateway.
    @Test func aDeleteTheProviderRefusesKeepsTheResponseForARetry() async throws {
        let provider = FlakyDeleteProvider()
        try await withTestServer(provider.router()) { port in
            let config = """
                general_settings: {master_key: \(Harness.master)}
                model_list:
                  - model_name: gpt-4o
                    litellm_params:
                      model: openai/gpt-4o
                      api_base: "http://127.0.0.1:\(port)/v1"
                      api_key: os.environ/E2E_UPSTREAM_KEY
                      extra_headers: {OpenAI-Project: proj_b}
                  - model_name: older
                    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:\(port)/older/v1", api_key: k}
                spanway_settings: {tokenizer_dir: "/nonexistent/spanway-tokenizers"}
                """
            try await Harness.with(config: config) { h in
                let key = try await h.newKey()
                let id = try await Self.create(h, #"{"model":"gpt-4o","input":"hi"}"#, key: key)
                #expect(id == "resp_flaky_1")
                let counted = try await h.send("/v1/responses/input_tokens", json: #"{"model":"gpt-4o","input":"hi"}"#, key: key)
                #expect(counted.status == 200 && counted.json?["input_tokens"]?.intValue == 7, "\(counted.text)")
                #expect(counted.headers.first(name: "x-spanway-token-count") == "provider")
                // "hi" is 2 bytes: ⌈2 ÷ 4⌉ = 1 token when the gateway counts.
                let older = try await h.send("/v1/responses/input_tokens", json: #"{"model":"older","input":"hi"}"#, key: key)
                #expect(older.status == 200 && older.json?["input_tokens"]?.intValue == 1, "\(older.text)")
                #expect(older.headers.first(name: "x-spanway-token-count") == "estimated")
                // A built-in tool cannot be put in chat form: the request's JSON is estimated instead.
                let withTool = try await h.send(
                    "/v1/responses/input_tokens", json: #"{"model":"older","input":"hi","tools":[{"type":"web_search"}]}"#,
                    key: key)
                #expect(withTool.status == 200, "\(withTool.text)")
                #expect(withTool.headers.first(name: "x-spanway-token-count") == "estimated")
                #expect((withTool.json?["input_tokens"]?.intValue ?? 0) > 1, "the tool is counted too")

                let refused = try await h.send("/v1/responses/\(id)", method: .DELETE, key: key)
                #expect(refused.status == 503, "\(refused.text)")
                #expect(refused.json?["error"]?["message"] != nil && !refused.text.contains(Harness.upstreamKey))
                #expect(try await h.send("/v1/responses/\(id)", method: .GET, key: key).status == 200)

                let deleted = try await h.send("/v1/responses/\(id)", method: .DELETE, key: key)
                #expect(deleted.status == 200 && deleted.json?["deleted"] == true, "\(deleted.text)")
                #expect(try await h.send("/v1/responses/\(id)", method: .GET, key: key).status == 404)

                // A failure no retry would pass (the provider refuses its key): the gateway's copy
                // goes, and the client is not told its own key was wrong.
                let second = try await Self.create(h, #"{"model":"gpt-4o","input":"hi"}"#, key: key)
                #expect(second == "resp_flaky_2")
                let gone = try await h.send("/v1/responses/\(second)", method: .DELETE, key: key)
                #expect(gone.status == 200 && gone.json?["deleted"] == true, "\(gone.text)")
                #expect(try await h.send("/v1/responses/\(second)", method: .GET, key: key).status == 404)

                let calls = provider.calls.withLock { $0 }
                #expect(
                    calls.map(\.route) == [
                        "POST /v1/responses", "POST /v1/responses/input_tokens", "DELETE", "DELETE", "POST /v1/responses",
                        "DELETE",
                    ])
                #expect(calls.allSatisfy { $0.project == "proj_b" && $0.authorization == "Bearer \(Harness.upstreamKey)" })
            }
        }
    }

    /// A background response would be answered, and charged, after the request ends; a
    /// provider-side conversation, and the items an item reference names, live under the key
    /// every caller shares: none is served, on a native deployment either, and nothing reaches
    /// the provider.
    @Test func backgroundAndConversationAreRefusedOnEveryDeployment() async throws {
        try await Harness.with(config: Self.config) { h in
            for model in ["gpt-4o-mini", "claude"] {
                for (field, value) in [("background", "true"), ("conversation", #""conv_123""#)] {
                    let reply = try await h.send(
                        "/v1/responses", json: #"{"model":"\#(model)","input":"hi","\#(field)":\#(value)}"#)
                    #expect(reply.status == 400, "\(model) \(field): \(reply.text)")
                    #expect(reply.json?["error"]?["param"]?.stringValue == field, "\(model): \(reply.text)")
                }
                for reference in [#"{"type":"item_reference","id":"msg_1"}"#, #"{"id":"msg_1"}"#] {
                    let reply = try await h.send(
                        "/v1/responses", json: #"{"model":"\#(model)","input":[{"role":"user","content":"hi"},\#(reference)]}"#)
                    #expect(reply.status == 400, "\(model) \(reference): \(reply.text)")
                    #expect(reply.json?["error"]?["param"] == "input[1].type", "\(model): \(reply.text)")
                }
            }
            #expect(h.upstream.count == 0)
        }
    }

    /// Through chat, counted here; natively (OpenAI), counted by the provider with what a model
    /// call would send: the same number the call's usage reports.
    @Test func inputTokensCountTheRequestWithItsKeptConversation() async throws {
        try await Harness.with(config: Self.config) { h in
            let key = try await h.newKey(#"{"allowed_routes":["llm_api_routes"]}"#)
            func count(_ body: String) async throws -> Harness.Reply {
                try await h.send("/v1/responses/input_tokens", json: body, key: key)
            }
            // "hello world": 11 bytes, ⌈11 ÷ 4⌉ = 3.
            let plain = try await count(#"{"model":"claude","input":"hello world"}"#)
            #expect(plain.status == 200, "\(plain.text)")
            #expect(plain.json == .object(["object": "response.input_tokens", "input_tokens": .int(3)]))
            #expect(plain.headers.first(name: "x-spanway-token-count") == "estimated")
            // Instructions count too: "Be brief." is 9 bytes, with "hello world" ⌈20 ÷ 4⌉ = 5.
            let instructed = try await count(#"{"model":"claude","instructions":"Be brief.","input":"hello world"}"#)
            #expect(instructed.json?["input_tokens"]?.intValue == 5, "\(instructed.text)")

            // With a kept turn (answered through chat): its input, its answer, then the new input.
            let first = try await Self.create(h, #"{"model":"claude","input":"My name is Ada."}"#, key: key)
            let upstreamCalls = h.upstream.count
            let continued = try await count(#"{"model":"claude","previous_response_id":"\#(first)","input":"hello world"}"#)
            let bytes = "My name is Ada.".utf8.count + MockUpstream.text.utf8.count + "hello world".utf8.count
            #expect(continued.json?["input_tokens"]?.intValue == (bytes + 3) / 4, "\(continued.text)")
            #expect(h.upstream.count == upstreamCalls, "counting through chat calls no upstream")

            // Natively: the provider's count of the conversation as the model call sends it (the
            // kept turn as input items), equal to that call's reported input tokens. Fields the
            // count does not take stay behind.
            let question =
                #""model":"gpt-4o-mini","instructions":"Be brief.","previous_response_id":"\#(first)","input":"hello world""#
            let native = try await count("{\(question),\"stream\":false,\"store\":false,\"temperature\":0.5}")
            #expect(native.status == 200, "\(native.text)")
            #expect(native.headers.first(name: "x-spanway-token-count") == "provider")
            let sent = try #require(h.upstream.last)
            #expect(sent.url == "/v1/responses/input_tokens")
            let forwarded = try JSONParser.parse(sent.bodyBytes)
            #expect(forwarded["temperature"] == nil && forwarded["store"] == nil && forwarded["stream"] == nil)
            #expect(forwarded["previous_response_id"] == nil && forwarded["input"]?.arrayValue?.count == 3)
            let answered = try await h.send("/v1/responses", json: "{\(question)}", key: key)
            let used = try #require(answered.json?["usage"]?["input_tokens"]?.intValue)
            #expect(native.json == .object(["object": "response.input_tokens", "input_tokens": .int(used)]))

            let unknown = try await count(#"{"model":"claude","previous_response_id":"resp_nope","input":"hi"}"#)
            #expect(unknown.status == 400 && unknown.json?["error"]?["code"] == "previous_response_not_found")
            let noModel = try await count(#"{"input":"hi"}"#)
            #expect(noModel.status == 400 && noModel.json?["error"]?["param"] == "model", "\(noModel.text)")
            // A built-in tool's item: refused through chat, counted by a native provider.
            let item = #"[{"type":"web_search_call","id":"ws_1","status":"completed"},{"role":"user","content":"hello world"}]"#
            let translated = try await count(#"{"model":"claude","input":\#(item)}"#)
            #expect(translated.status == 400 && translated.json?["error"]?["param"] == "input[0].type", "\(translated.text)")
            #expect(try await count(#"{"model":"gpt-4o-mini","input":\#(item)}"#).status == 200)
            let unknownModel = try await count(#"{"model":"nope","input":"hi"}"#)
            #expect(unknownModel.status >= 400 && unknownModel.json?["error"]?["param"] == "model", "\(unknownModel.text)")
        }
    }
}

extension ResponsesStateTests {
    /// Two turns of a conversation shaped as OpenAI's Codex CLI sends it (openai/codex
    /// `codex-api`: streamed, `store: false`, the whole history as items each turn — its own
    /// reasoning item with `encrypted_content`, output messages, a function call with its
    /// output — `parallel_tool_calls: false`, `include`, `prompt_cache_key`, function tools with
    /// `strict`; `reasoning` only for its own reasoning models), through chat to Anthropic, Gemini
    /// and Bedrock: answered, and nothing kept.
    @Test func aCodexShapedConversationWorksThroughChat() async throws {
        try await Harness.with(config: Self.fixtureConfig) { h in
            for model in ["claude", "gemini", "bedrock"] {
                let tools =
                    #"[{"type":"function","name":"shell","description":"Runs a command","strict":false,"parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"]}}]"#
                let common =
                    #""model":"\#(model)","instructions":"You are a coding agent.","tools":\#(tools),"tool_choice":"auto","parallel_tool_calls":false,"store":false,"stream":true,"include":["reasoning.encrypted_content"],"prompt_cache_key":"0199-session""#
                let user = #"{"type":"message","role":"user","content":[{"type":"input_text","text":"List the files."}]}"#
                let history = [
                    user,
                    #"{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Use ls."}],"encrypted_content":"gAAAA-opaque"}"#,
                    #"{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Listing.","annotations":[]}]}"#,
                    #"{"type":"function_call","id":"fc_1","call_id":"call_1","name":"shell","arguments":"{\"command\":[\"ls\"]}"}"#,
                    #"{"type":"function_call_output","call_id":"call_1","output":"README.md\nPackage.swift"}"#,
                ]
                for input in [[user], history] {
                    let reply = try await h.send("/v1/responses", json: "{\(common),\"input\":[\(input.joined(separator: ","))]}")
                    #expect(reply.status == 200, "\(model): \(reply.text)")
                    let events = reply.text.split(separator: "\n").filter { $0.hasPrefix("event: ") }
                    #expect(events.first == "event: response.created", "\(model): \(reply.text)")
                    #expect(events.last == "event: response.completed", "\(model): \(reply.text)")
                }
            }
            // Anthropic is told to make one call (the gateway keeps only the first either way).
            let anthropic = h.upstream.requests.withLock { $0 }.filter { $0.url.hasSuffix("/messages") }
            #expect(!anthropic.isEmpty)
            for request in anthropic {
                #expect(try JSONParser.parse(request.bodyBytes)["tool_choice"]?["disable_parallel_tool_use"] == true)
            }
            // `store: false`: nothing kept.
            #expect(h.gateway.responseStore.count == 0)
        }
    }

    /// The fixture upstream's Gemini and Bedrock deployments (`TranslatedProvidersEndToEndTests`,
    /// whose `model_list` comes last), and the mock's Anthropic.
    static let fixtureConfig = """
        general_settings: {master_key: \(Harness.master)}
        \(TranslatedProvidersEndToEndTests.config)
          - model_name: claude
            litellm_params: {model: anthropic/claude-mock, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
        """
}

/// An OpenAI-shaped provider that answers Responses calls (`resp_flaky_1`, `resp_flaky_2`, …) and
/// counts; it refuses the first delete of `resp_flaky_1` with a 503 and every delete of
/// `resp_flaky_2` with a 401, each naming the key it was sent (as OpenAI's 401 does), and records
/// each call's route and the headers a deployment sets.
private final class FlakyDeleteProvider: Sendable {
    let calls = Mutex<[(route: String, project: String?, authorization: String?)]>([])

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let record = { @Sendable (route: String, request: Request) in
            self.calls.withLock {
                $0.append((route, request.headers[HTTPField.Name("OpenAI-Project")!], request.headers[.authorization]))
            }
        }
        router.post("/v1/responses") { request, _ -> Response in
            record("POST /v1/responses", request)
            let number = self.calls.withLock { $0.filter { $0.route == "POST /v1/responses" }.count }
            return Self.json(
                #"{"id":"resp_flaky_\#(number)","object":"response","created_at":1700000000,"status":"completed","model":"gpt-4o","#
                    + #""output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","#
                    + #""content":[{"type":"output_text","text":"Hello","annotations":[]}]}],"#
                    + #""usage":{"input_tokens":7,"output_tokens":1,"total_tokens":8}}"#)
        }
        router.post("/v1/responses/input_tokens") { request, _ -> Response in
            record("POST /v1/responses/input_tokens", request)
            return Self.json(#"{"object":"response.input_tokens","input_tokens":7}"#)
        }
        router.delete("/v1/responses/:id") { request, context -> Response in
            record("DELETE", request)
            let id = context.parameters.get("id") ?? ""
            let key = request.headers[.authorization] ?? ""
            if id == "resp_flaky_2" {
                return Self.json(
                    #"{"error":{"message":"Incorrect API key provided: \#(key).","type":"invalid_request_error","code":"invalid_api_key"}}"#,
                    status: .unauthorized)
            }
            if self.calls.withLock({ $0.filter { $0.route == "DELETE" }.count }) == 1 {
                return Self.json(
                    #"{"error":{"message":"The server is overloaded (\#(key)).","type":"server_error"}}"#,
                    status: .serviceUnavailable)
            }
            return Self.json(#"{"id":"\#(id)","object":"response.deleted","deleted":true}"#)
        }
        return router
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
