import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import OTLPProto

/// What a LiteLLM client sends beyond OpenAI's API: its key in LiteLLM's places, a key reading
/// its own info, budgets refused in LiteLLM's words, and LiteLLM's gateway-only parameters, which
/// steer the gateway and never reach a provider. Expected words and statuses are LiteLLM
/// 1.108.7's.
@Suite(.timeLimit(.minutes(3))) struct LiteLLMRequestTests {
    static let chat = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]"#

    /// `Authorization: Basic <key>` is LiteLLM's too (the prefix stripped, not base64-decoded);
    /// any other scheme is a 401 naming the header, even when a raw-key header is also sent.
    @Test func authorizationSchemesAsLiteLLMReadsThem() async throws {
        try await Harness.with(config: e2eConfig, otlp: false) { h in
            let key = try await h.newKey()
            let basic = try await h.send(
                "/v1/chat/completions", json: Self.chat + "}", key: nil, headers: [("authorization", "Basic \(key)")])
            #expect(basic.status == 200)
            let malformed = try await h.send(
                "/v1/chat/completions", json: Self.chat + "}", key: nil,
                headers: [("authorization", "Token \(key)"), ("x-api-key", key)])
            #expect(malformed.status == 401 && malformed.json?["error"]?["param"] == "authorization")
            #expect(!malformed.text.contains(key))
            let litellmHeader = try await h.send(
                "/v1/chat/completions", json: Self.chat + "}", key: nil, headers: [("x-litellm-api-key", key)])
            #expect(litellmHeader.status == 200)
        }
    }

    /// LiteLLM's SDK and UI call `/key/info` with the key itself and no `key` parameter.
    @Test func aVirtualKeyReadsItsOwnInfoAndNoOtherKeys() async throws {
        try await Harness.with(config: e2eConfig, otlp: false) { h in
            let key = try await h.newKey(#"{"key_alias":"own","max_budget":5}"#)
            let other = try await h.newKey(#"{"key_alias":"other"}"#)
            let own = try await h.send("/key/info", key: key)
            #expect(own.status == 200 && own.json?["info"]?["key_alias"] == "own")
            #expect(own.json?["info"]?["max_budget"]?.doubleValue == 5)
            let named = try await h.send("/key/info?key=\(key)", key: key)
            #expect(named.status == 200 && named.json?["info"]?["key_alias"] == "own")
            #expect(try await h.send("/key/info?key=\(other)", key: key).status == 403)
            // The master key still reads any key, and must name one.
            #expect(try await h.send("/key/info?key=\(other)").json?["info"]?["key_alias"] == "other")
            #expect(try await h.send("/key/info").status == 400)
            #expect(try await h.send("/key/info", key: "sk-not-a-key").status == 401)
        }
    }

    /// A key's budget: 422 `budget_exceeded` naming the key by alias and `sk-...wxyz`.
    @Test func aSpentKeyGets422InLiteLLMsWords() async throws {
        try await Harness.with(config: e2eConfig, otlp: false) { h in
            let key = try await h.newKey(#"{"key_alias":"tiny","max_budget":0.0000001}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat + "}", key: key).status == 200)
            let spent = try await h.send("/v1/chat/completions", json: Self.chat + "}", key: key)
            #expect(spent.status == 422)
            let error = try #require(spent.json?["error"])
            #expect(error["type"] == "budget_exceeded" && error["code"] == "budget_exceeded")
            let message = try #require(error["message"]?.stringValue)
            #expect(message.hasPrefix("Budget has been exceeded! Key=tiny (sk-...\(key.suffix(4))) Current cost: "))
            #expect(message.hasSuffix(", Max budget: 1e-07"))
        }
    }

    /// `litellm_settings.max_budget` binds every caller, the master key included, once spend goes
    /// past it; `budget_exceeded_status_code` picks the status.
    @Test func theProxyBudgetRefusesEveryoneOnceSpent() async throws {
        let config = e2eConfig.replacingOccurrences(
            of: "litellm_settings:\n", with: "litellm_settings:\n  max_budget: 0.0000001\n  budget_exceeded_status_code: 429\n")
        try await Harness.with(config: config, otlp: false) { h in
            #expect(try await h.chat("gpt-4o-mini").status == 200)
            let refused = try await h.chat("gpt-4o-mini")
            #expect(refused.status == 429 && refused.json?["error"]?["type"] == "budget_exceeded")
            let message = try #require(refused.json?["error"]?["message"]?.stringValue)
            #expect(message.hasPrefix("Budget has been exceeded! Current cost: ") && message.hasSuffix(", Max budget: 1e-07"))
            let key = try await h.newKey()
            #expect(try await h.send("/v1/chat/completions", json: Self.chat + "}", key: key).status == 429)
        }
    }

    /// Without a ledger (`disable_spend_logs`) the proxy budget still counts what was answered.
    @Test func theProxyBudgetBindsWithoutALedger() async throws {
        let config = e2eConfig.replacingOccurrences(
            of: "litellm_settings:\n", with: "litellm_settings:\n  max_budget: 0.0000001\n"
        ).replacingOccurrences(of: "general_settings:\n", with: "general_settings:\n  disable_spend_logs: true\n")
        try await Harness.with(config: config, otlp: false) { h in
            let first = try await h.chat("gpt-4o-mini")
            let second = try await h.chat("gpt-4o-mini")
            #expect(first.status == 200 && second.status == 422)
        }
    }

    /// Tags reach every span, row and sink, so they are bounded, and refused by name past that.
    @Test func tagsAreBounded() async throws {
        try await Harness.with(config: e2eConfig, otlp: false) { h in
            let many = (0..<65).map { "\"t\($0)\"" }.joined(separator: ",")
            let refused = try await h.send("/v1/chat/completions", json: Self.chat + #","tags":[\#(many)]}"#)
            #expect(refused.status == 400 && refused.json?["error"]?["param"] == "tags")
            let long = String(repeating: "x", count: 257)
            let header = try await h.send(
                "/v1/chat/completions", json: Self.chat + "}", headers: [("x-litellm-tags", "ok,\(long)")])
            #expect(header.status == 400)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat + #","tags":["a","b"]}"#).status == 200)
        }
    }

    /// `mock_response` is dropped (the upstream answers) unless the key's metadata allows it;
    /// then the gateway answers it itself, JSON or streamed, with usage and cost 0.
    @Test func mockResponseNeedsTheKeysPermission() async throws {
        try await Harness.with(config: e2eConfig, otlp: false) { h in
            let plain = try await h.newKey()
            let allowed = try await h.newKey(#"{"metadata":{"allow_client_mock_response":true}}"#)
            let body = Self.chat + #","mock_response":"Canned answer."}"#
            let dropped = try await h.send("/v1/chat/completions", json: body, key: plain)
            #expect(dropped.status == 200 && h.upstream.count == 1)
            let forwarded = try #require(try JSONParser.parse(h.upstream.last?.body ?? []).objectValue)
            #expect(forwarded["mock_response"] == nil)
            #expect(dropped.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue != "Canned answer.")

            let mocked = try await h.send("/v1/chat/completions", json: body, key: allowed)
            #expect(mocked.status == 200 && h.upstream.count == 1, "the upstream is not called")
            #expect(mocked.json?["choices"]?.arrayValue?.first?["message"]?["content"] == "Canned answer.")
            #expect(mocked.json?["usage"]?["total_tokens"]?.intValue == 0)
            #expect(mocked.headers.first(name: "x-litellm-response-cost").flatMap(Double.init) == 0)

            let streamed = try await h.send(
                "/v1/chat/completions",
                json: Self.chat + #","stream":true,"stream_options":{"include_usage":true},"mock_response":"Streamed."}"#,
                key: allowed)
            #expect(streamed.status == 200 && h.upstream.count == 1)
            #expect(streamed.text.contains(#""content":"Streamed.""#) && streamed.text.contains("data: [DONE]"))
        }
    }

    /// LiteLLM's metadata is the gateway's, recorded on the span, never sent upstream; keys that
    /// would let a client pose as another caller are dropped.
    @Test func metadataIsRecordedNotForwarded() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let body =
                Self.chat
                + #","metadata":{"trace_name":"nightly-eval","generation_name":"step-1","user_api_key_alias":"admin","tags":["a"]},"user_api_key_team_id":"t"}"#
            let reply = try await h.send("/v1/chat/completions", json: body)
            #expect(reply.status == 200)
            let forwarded = try #require(try JSONParser.parse(h.upstream.last?.body ?? []).objectValue)
            #expect(forwarded["metadata"] == nil && forwarded["user_api_key_team_id"] == nil)
            try await h.eventually("the span carries the client's metadata") {
                h.receiver.spans.contains {
                    $0[attribute: "spanway.request.metadata.trace_name"]?.stringValue == "nightly-eval"
                        && $0[attribute: "spanway.request.metadata.generation_name"]?.stringValue == "step-1"
                }
            }
            #expect(!h.receiver.spans.contains { $0[attribute: "spanway.request.metadata.user_api_key_alias"] != nil })
            // Tags are recorded on the span too, whether or not they route.
            #expect(
                h.receiver.spans.contains {
                    $0[attribute: "spanway.request.tags"]?.arrayValue.values.map(\.stringValue) == ["a"]
                })
        }
    }

    /// No response cache exists: asking for one is refused by name, asking not to use one is
    /// fine; LiteLLM's mock-testing switches are refused as LiteLLM refuses them on a proxy.
    @Test func cacheAndMockTestingParametersAreRefusedByName() async throws {
        try await Harness.with(config: e2eConfig, otlp: false) { h in
            let cached = try await h.send("/v1/chat/completions", json: Self.chat + #","caching":true}"#)
            #expect(cached.status == 400 && cached.json?["error"]?["param"] == "caching")
            let ttl = try await h.send("/v1/chat/completions", json: Self.chat + #","cache":{"ttl":60}}"#)
            #expect(ttl.status == 400 && ttl.json?["error"]?["param"] == "cache")
            let fresh = try await h.send(
                "/v1/chat/completions", json: Self.chat + #","caching":false,"cache":{"no-cache":true}}"#)
            #expect(fresh.status == 200)
            let forwarded = try #require(try JSONParser.parse(h.upstream.last?.body ?? []).objectValue)
            #expect(forwarded["cache"] == nil && forwarded["caching"] == nil)
            let mockTesting = try await h.send("/v1/chat/completions", json: Self.chat + #","mock_testing_fallbacks":true}"#)
            #expect(mockTesting.status == 400)
            #expect(
                mockTesting.json?["error"]?["message"]
                    == "Mock testing request params are disabled on this proxy: mock_testing_fallbacks.")
        }
    }
}
