import Foundation
import GatewayTesting
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Telemetry
import Testing
import Tokenizers

@testable import Proxy

/// `POST /v1/messages/count_tokens`: forwarded to Anthropic deployments, counted by the gateway
/// for every other model (OpenAI models with their BPE encoding, the rest estimated).
@Suite(.serialized, .timeLimit(.minutes(3))) struct CountTokensTests {
    /// Anthropic's counting endpoint, recording what it was sent.
    final class CountingUpstream: Sendable {
        struct Seen: Sendable {
            var path: String
            var headers: HTTPFields
            var body: JSONValue?
        }

        static let answer = #"{"input_tokens":4242}"#
        let seen = Mutex<[Seen]>([])

        func router() -> Router<BasicRequestContext> {
            let router = Router(context: BasicRequestContext.self)
            router.post("/v1/messages/count_tokens") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let json = try? JSONParser.parse(body.readableBytesView)
                self.seen.withLock {
                    $0.append(Seen(path: request.uri.path, headers: request.headers, body: json))
                }
                if json?["model"]?.stringValue == "claude-refuses" {
                    return Response(
                        status: .badRequest, headers: [.contentType: "application/json"],
                        body: ResponseBody(
                            byteBuffer: ByteBuffer(
                                string:
                                    #"{"type":"error","error":{"type":"invalid_request_error","message":"messages: bad"}}"#)))
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: Self.answer)))
            }
            return router
        }
    }

    /// The rank files, when the test run has them (`.ci/run` sets `SPANWAY_TOKENIZER_DIR`).
    static let rankDirectory = ProcessInfo.processInfo.environment["SPANWAY_TOKENIZER_DIR"].flatMap {
        FileManager.default.fileExists(atPath: $0 + "/o200k_base.tiktoken") ? $0 : nil
    }

    static func config(anthropicRoot: String, tokenizerDirectory: String?) -> String {
        """
        model_list:
          - model_name: gpt4o
            litellm_params: {model: openai/gpt-4o, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: claude
            litellm_params: {model: anthropic/claude-count, api_base: "\(anthropicRoot)", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: claude-broken
            litellm_params: {model: anthropic/claude-refuses, api_base: "\(anthropicRoot)", api_key: os.environ/E2E_UPSTREAM_KEY}
          - model_name: gemini
            litellm_params: {model: gemini/gemini-2.5-pro, api_key: gemini-test-key}
        general_settings:
          master_key: \(Harness.master)
        spanway_settings:
          tokenizer_dir: "\(tokenizerDirectory ?? "/nonexistent/spanway-tokenizers")"
        """
    }

    static let helloWorld = #"{"model":"MODEL","messages":[{"role":"user","content":"hello world"}]}"#

    /// `input_tokens` of an answer that has nothing else.
    static func inputTokens(_ reply: Harness.Reply) -> Int? {
        guard let object = reply.json?.objectValue, object.keys == ["input_tokens"] else { return nil }
        return object["input_tokens"]?.intValue
    }

    static func body(_ model: String) -> String {
        helloWorld.replacingOccurrences(of: "MODEL", with: model)
    }

    /// With the rank files: gpt-4o counts with o200k_base as OpenAI's cookbook does — 3 for the
    /// message, "user" (1 token), "hello world" ([24912, 2375]: 2 tokens), 3 for the reply's
    /// priming: 9.
    @Test(.enabled(if: rankDirectory != nil, "needs SPANWAY_TOKENIZER_DIR with o200k_base.tiktoken (.ci/run fetches it)"))
    func openAIModelsAreCountedWithTheirEncoding() async throws {
        let upstream = CountingUpstream()
        try await withTestServer(upstream.router()) { port in
            let config = Self.config(anthropicRoot: "http://127.0.0.1:\(port)", tokenizerDirectory: Self.rankDirectory)
            try await Harness.with(config: config) { h in
                // Loading starts with the gateway; counting never waits for it, so the test does.
                #expect(await h.gateway.flow.attempts.prompts.counter.store?.loaded(.o200kBase) != nil)
                let reply = try await h.send("/v1/messages/count_tokens", json: Self.body("gpt4o"))
                #expect(reply.status == 200, "\(reply.text)")
                #expect(Self.inputTokens(reply) == 9, "\(reply.text)")
                #expect(reply.headers.first(name: "x-spanway-token-count") == "tokenizer")
                // Unprefixed too, like /messages.
                let unprefixed = try await h.send("/messages/count_tokens", json: Self.body("gpt4o"))
                #expect(Self.inputTokens(unprefixed) == 9, "\(unprefixed.text)")
                #expect(upstream.seen.withLock { $0.isEmpty } && h.upstream.count == 0)
            }
        }
    }

    @Test func otherModelsAreEstimatedAndAnthropicCountsItsOwn() async throws {
        let upstream = CountingUpstream()
        try await withTestServer(upstream.router()) { port in
            let config = Self.config(anthropicRoot: "http://127.0.0.1:\(port)", tokenizerDirectory: nil)
            try await Harness.with(config: config) { h in
                // No tokenizer for Gemini: "hello world" is 11 bytes, ⌈11 / 4⌉ = 3.
                let gemini = try await h.send("/v1/messages/count_tokens", json: Self.body("gemini"))
                #expect(gemini.status == 200, "\(gemini.text)")
                #expect(Self.inputTokens(gemini) == 3, "\(gemini.text)")
                #expect(gemini.headers.first(name: "x-spanway-token-count") == "estimated")
                // No rank file: gpt-4o is estimated the same way, not refused.
                let gpt = try await h.send("/v1/messages/count_tokens", json: Self.body("gpt4o"))
                #expect(Self.inputTokens(gpt) == 3, "\(gpt.text)")

                let claude = try await h.send(
                    "/v1/messages/count_tokens", json: Self.body("claude"), key: nil,
                    headers: [
                        ("x-api-key", Harness.master), ("anthropic-version", "2026-10-21"),
                        ("anthropic-beta", "token-counting-2024-11-01"),
                    ])
                #expect(claude.status == 200, "\(claude.text)")
                #expect(claude.text == CountingUpstream.answer)
                let seen = try #require(upstream.seen.withLock { $0.last })
                #expect(seen.path == "/v1/messages/count_tokens")
                #expect(seen.headers[HTTPField.Name("x-api-key")!] == Harness.upstreamKey)
                #expect(seen.headers[.authorization] == nil)
                #expect(seen.headers[HTTPField.Name("anthropic-version")!] == "2026-10-21")
                #expect(seen.headers[HTTPField.Name("anthropic-beta")!] == "token-counting-2024-11-01")
                #expect(seen.body?["model"] == "claude-count")
                #expect(seen.body?["messages"] == (try JSONParser.parse(Self.body("claude")))["messages"])

                // Anthropic's refusal comes back in Anthropic's error shape with its status.
                let refused = try await h.send("/v1/messages/count_tokens", json: Self.body("claude-broken"))
                #expect(refused.status == 400 && refused.json?["type"] == "error", "\(refused.text)")
                #expect(refused.json?["error"]?["type"] == "invalid_request_error")
            }
        }
    }

    @Test func refusalsAreAnthropicShapedAndNameTheField() async throws {
        let upstream = CountingUpstream()
        try await withTestServer(upstream.router()) { port in
            let config = Self.config(anthropicRoot: "http://127.0.0.1:\(port)", tokenizerDirectory: nil)
            try await Harness.with(config: config) { h in
                let anonymous = try await h.send("/v1/messages/count_tokens", json: Self.body("claude"), key: nil)
                #expect(anonymous.status == 401 && anonymous.json?["error"]?["type"] == "authentication_error")
                let wrongKey = try await h.send("/v1/messages/count_tokens", json: Self.body("claude"), key: "sk-nope")
                #expect(wrongKey.status == 401)

                // A key limited to gpt4o may not count for claude (and is not forwarded).
                let key = try await h.newKey(#"{"models":["gpt4o"]}"#)
                let denied = try await h.send("/v1/messages/count_tokens", json: Self.body("claude"), key: key)
                #expect(denied.status == 403 && denied.json?["error"]?["type"] == "permission_error", "\(denied.text)")
                let allowed = try await h.send("/v1/messages/count_tokens", json: Self.body("gpt4o"), key: key)
                #expect(allowed.status == 200)

                let unknown = try await h.send("/v1/messages/count_tokens", json: Self.body("no-such-model"))
                #expect(unknown.status == 404 && unknown.json?["error"]?["type"] == "not_found_error")
                let noModel = try await h.send("/v1/messages/count_tokens", json: #"{"messages":[]}"#)
                #expect(noModel.status == 400 && noModel.json?["error"]?["message"]?.stringValue?.contains("model") == true)
                let noMessages = try await h.send("/v1/messages/count_tokens", json: #"{"model":"gpt4o"}"#)
                #expect(noMessages.status == 400, "\(noMessages.text)")
                #expect(noMessages.json?["error"]?["message"]?.stringValue?.contains("messages") == true)
                let badRole = try await h.send(
                    "/v1/messages/count_tokens", json: #"{"model":"gemini","messages":[{"role":"robot","content":"x"}]}"#)
                #expect(
                    badRole.status == 400 && badRole.json?["error"]?["message"]?.stringValue?.contains("messages[0].role") == true
                )
                let notJSON = try await h.send("/v1/messages/count_tokens", json: "nope")
                #expect(notJSON.status == 400 && notJSON.json?["error"]?["type"] == "invalid_request_error")
                #expect(upstream.seen.withLock { $0.isEmpty })
            }
        }
    }

    static let sdkScript = #"""
        import sys, anthropic
        base, key = sys.argv[1], sys.argv[2]
        client = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
        for model in ("claude", "gemini", "gpt4o"):
            count = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "hello world"}])
            print("ok", model, count.input_tokens)
        try:
            client.messages.count_tokens(model="no-such-model", messages=[{"role": "user", "content": "x"}])
            sys.exit("an unknown model did not raise")
        except anthropic.NotFoundError as error:
            print("ok not found")
        """#

    /// The official SDK's `client.messages.count_tokens(...)` reads both kinds of answer.
    @Test(.enabled(if: PythonSDKTests.hasAnthropic, "needs python3 with the anthropic package (pip install anthropic)"))
    func anthropicSDKCountsTokens() async throws {
        let upstream = CountingUpstream()
        try await withTestServer(upstream.router()) { port in
            let config = Self.config(anthropicRoot: "http://127.0.0.1:\(port)", tokenizerDirectory: Self.rankDirectory)
            try await Harness.with(config: config) { h in
                let loaded = await h.gateway.flow.attempts.prompts.counter.store?.loaded(.o200kBase) != nil
                let (status, output) = try await PythonSDKTests.runPython(Self.sdkScript, [h.gatewayURL, Harness.master])
                #expect(status == 0, "\(output)")
                #expect(output.contains("ok claude 4242") && output.contains("ok gemini 3"), "\(output)")
                // 9 with the o200k_base file (see above), else the estimate ⌈11 / 4⌉.
                #expect(output.contains("ok gpt4o \(loaded ? 9 : 3)") && output.contains("ok not found"), "\(output)")
                #expect(upstream.seen.withLock { $0.count } == 1)
            }
        }
    }
}
