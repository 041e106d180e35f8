import Foundation
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

@testable import Proxy

@Suite struct OpenAIAdapterTests {
    let adapter = OpenAIAdapter()
    let deployment = DeploymentConfig(
        modelName: "group", provider: "openai", model: "gpt-4.1-mini", id: "d1", apiBase: "http://up:8080/v1/",
        apiKey: "sk-upstream-secret")

    @Test func buildsTheUpstreamRequest() throws {
        let upstream = try adapter.request(
            for: chat(
                #"{"model":"group","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"x":1},"temperature":0.5}"#
            ),
            deployment: deployment)
        #expect(upstream.url == "http://up:8080/v1/chat/completions")
        #expect(upstream.headers.first(name: "authorization") == "Bearer sk-upstream-secret")
        #expect(
            String(decoding: upstream.body, as: UTF8.self)
                == #"{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"x":1,"include_usage":true},"temperature":0.5}"#
        )
    }

    /// Scenario A: the normalised values in expected/scenario-a.normalized.json.
    @Test func parsesTheChatFixture() throws {
        let expected = try Fixture.json("scenario-a.normalized.json")["openai/chat.response.json"]
        let body = try Fixture.bytes("openai/chat.response.json")
        let reply = try adapter.parseResponse(body, for: chat(#"{"model":"m","messages":[{"role":"user"}]}"#))
        let usage = try #require(reply.usage)
        #expect(usage.inputTokens == expected?["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage.outputTokens == expected?["usage"]?["completion_tokens"]?.intValue)
        #expect(usage.totalTokens == expected?["usage"]?["total_tokens"]?.intValue)
        #expect(usage.cacheReadTokens == expected?["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue)
        #expect(usage.reasoningTokens == expected?["usage"]?["completion_tokens_details"]?["reasoning_tokens"]?.intValue)
        #expect(reply.finishReasons == [expected?["finish_reason"]?.stringValue ?? ""])
        #expect(reply.responseModel == "o4-mini-2025-04-16" && reply.responseID == "chatcmpl-CXq7rT2bq9XkZ0aH1fJ3LmN5pQ8sV")
        #expect(reply.body == body)
    }

    /// Scenario B through the stream decoder, fed in uneven pieces: the aggregate must match.
    @Test(arguments: [1, 7, 64, 100_000])
    func decodesTheStreamFixture(pieceSize: Int) throws {
        let expected = try #require(try Fixture.json("scenario-b.normalized.json")["openai/chat.stream.sse"])
        let bytes = try Fixture.bytes("openai/chat.stream.sse")
        var decoder = adapter.makeStreamDecoder(for: streamedChat)
        var chunks: [StreamChunk] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + pieceSize, bytes.count)
            chunks += try decoder.feed(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
        }
        chunks += try decoder.finish()
        var content = ""
        var arguments = ""
        var toolName: String?
        var finish: String?
        var usage: Usage?
        var done = false
        for chunk in chunks {
            switch chunk {
            case .done: done = true
            case .chunk(let object, _):
                if let u = object["usage"], !u.isNull { usage = CanonicalUsage.parse(u) }
                for choice in object["choices"]?.arrayValue ?? [] {
                    content += choice["delta"]?["content"]?.stringValue ?? ""
                    for call in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                        toolName = toolName ?? call["function"]?["name"]?.stringValue
                        arguments += call["function"]?["arguments"]?.stringValue ?? ""
                    }
                    if let reason = choice["finish_reason"]?.stringValue { finish = reason }
                }
            }
        }
        #expect(done)
        #expect(content == expected["content"]?.stringValue)
        #expect(toolName == expected["tool_calls"]?.arrayValue?.first?["name"]?.stringValue)
        #expect(try JSONParser.parse(arguments) == expected["tool_calls"]?.arrayValue?.first?["arguments_json"])
        #expect(finish == expected["finish_reason"]?.stringValue)
        #expect(usage?.inputTokens == expected["usage"]?["prompt_tokens"]?.intValue)
        #expect(usage?.outputTokens == expected["usage"]?["completion_tokens"]?.intValue)
    }

    @Test func rateLimitFixtureMapsTo429WithRetryAfter() throws {
        var headers = HTTPHeaders()
        headers.add(name: "retry-after-ms", value: "636")
        let error = adapter.mapError(
            status: 429, headers: headers, body: try Fixture.bytes("openai/error.rate_limit.json"), deployment: deployment)
        #expect(error.status == 429 && error.code == "rate_limit_exceeded" && error.type == "tokens")
        #expect(error.headers["retry-after"] == "1")
        #expect(error.isRetryable)
    }

    @Test func contextWindowFixtureKeepsCodeAndParam() throws {
        let error = adapter.mapError(
            status: 400, headers: [:], body: try Fixture.bytes("openai/error.context_length_exceeded.json"),
            deployment: deployment)
        #expect(error.status == 400 && error.code == "context_length_exceeded" && error.param == "messages")
        #expect(error.errorType == "context_length_exceeded" && !error.isRetryable)
    }

    @Test func upstreamErrorsNeverCarryTheKeyOrARawBody() {
        let leaky = Array(#"{"error":{"message":"Incorrect API key provided: sk-upstream-secret and sk-proj-zzzz9999"}}"#.utf8)
        let error = adapter.mapError(status: 401, headers: [:], body: leaky, deployment: deployment)
        #expect(!error.message.contains("sk-upstream-secret") && !error.message.contains("zzzz9999"))
        #expect(error.status == 401 && error.type == "authentication_error")
        let garbage = adapter.mapError(status: 500, headers: [:], body: Array("<html>boom</html>".utf8), deployment: deployment)
        #expect(garbage.message == "The upstream provider answered HTTP 500." && garbage.status == 500)
        #expect(adapter.mapError(status: 418, headers: [:], body: [], deployment: deployment).status == 400)
        #expect(adapter.mapError(status: 302, headers: [:], body: [], deployment: deployment).status == 502)
    }

    @Test func garbageSuccessBodyIsABadUpstreamResponse() throws {
        #expect(throws: GatewayError.badUpstreamResponse("The upstream answered with a body that is not a JSON object.")) {
            try adapter.parseResponse(Array("<html>".utf8), for: try chat(#"{"model":"m","messages":[{"role":"user"}]}"#))
        }
    }

    @Test func embeddingsFixture() throws {
        let request = try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"e","input":"x"}"#.utf8))
        let reply = try adapter.parseResponse(try Fixture.bytes("openai/embeddings.response.json"), for: request)
        #expect(reply.usage?.inputTokens ?? 0 > 0 && reply.usage?.outputTokens == 0)
    }

    /// A large embeddings batch holds more numbers than a request body may (the parser's default
    /// element bound): upstream answers are parsed under the looser upstream bound.
    @Test func largeEmbeddingsBatchIsNotRefused() throws {
        let request = try OpenAIRequest(operation: .embeddings, bytes: Array(#"{"model":"e","input":"x"}"#.utf8))
        let vector = "[" + Array(repeating: "0.5", count: 1_536).joined(separator: ",") + "]"
        let items = (0..<700).map { #"{"object":"embedding","index":\#($0),"embedding":\#(vector)}"# }
        let body =
            #"{"object":"list","data":["# + items.joined(separator: ",")
            + #"],"model":"e","usage":{"prompt_tokens":700,"total_tokens":700}}"#
        let reply = try adapter.parseResponse(Array(body.utf8), for: request)
        #expect(reply.usage?.inputTokens == 700)
    }

    @Test func hostAndPortForSpans() {
        #expect(Deployment.hostAndPort("http://up:8080/v1") == ("up", 8080))
        #expect(Deployment.hostAndPort("https://api.openai.com/v1") == ("api.openai.com", 443))
        #expect(Deployment.hostAndPort("http://user:pw@[::1]:9/x") == ("::1", 9))
        #expect(
            ReplyHeaders.formatCost(6.6e-6) == "0.0000066" && ReplyHeaders.formatCost(0) == "0"
                && ReplyHeaders.formatCost(1.5) == "1.5")
        #expect(
            ReplyHeaders.formatCost(12) == "12" && ReplyHeaders.formatCost(0.1 + 0.2) == "0.3"
                && ReplyHeaders.formatCost(4e-13) == "0")
        #expect(ReplyHeaders.formatCost(1.23456789012345e-3) == "0.00123456789" && ReplyHeaders.formatCost(.nan) == "0")
    }
}
