import Foundation
import GatewayTesting
import Logging
import Redis
import Telemetry
import Testing

@testable import Proxy

/// LiteLLM's per-model limits, set through the management API as LiteLLM's scripts set them:
/// `model_rpm_limit` and `model_tpm_limit` (`{"<model>": <int>}`) on keys, teams and in a key's
/// `metadata` (where LiteLLM itself keeps them), and a key's `model_max_budget`. Semantics are
/// LiteLLM 1.108.7's `parallel_request_limiter_v3.py` and `model_max_budget_limiter.py`.
///
/// Figures come from the mock upstream: a request whose one message is "x" is 4 input tokens
/// (one for the text, three for the message) and answers the mock's eight words with 10 output
/// tokens, 14 in all; at m1's prices (0.001 USD an input token, 0.002 an output token) it costs
/// 4 × 0.001 + 10 × 0.002 = 0.024 USD.
@Suite(.serialized) struct PerModelLimitTests {
    static let config = """
        model_list:
          - model_name: m1
            litellm_params: {model: mock/m1, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: m2
            litellm_params: {model: mock/m2, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
        general_settings:
          master_key: sk-e2e-master
        """
    static let tokensPerRequest = 4 + 10
    static let costPerRequest = 4 * 0.001 + 10 * 0.002

    static func chat(_ model: String) -> String {
        #"{"model":"\#(model)","messages":[{"role":"user","content":"x"}]}"#
    }

    /// The clock stopped 15 seconds into a minute, so a test's requests share one window.
    @Test(.timeLimit(.minutes(1))) func keyModelRPMLimitBindsOnlyThatModel() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let key = try await h.newKey(#"{"model_rpm_limit":{"m1":1}}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            let refused = try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key)
            #expect(refused.status == 429 && refused.json?["error"]?["type"] == "rate_limit_exceeded")
            let message = refused.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("model_per_key") && message.contains("m1"), "\(message)")
            #expect(!message.contains(key))
            // The 45 seconds left of the minute.
            #expect(refused.headers.first(name: "retry-after") == "45")
            // Another model is not limited, nor is another key on m1.
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m2"), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m2"), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: try await h.newKey()).status == 200)
            clock.advance(by: .seconds(45))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
        }
    }

    /// LiteLLM keeps a key's `model_rpm_limit` in its `metadata`; keys imported from its database carry it there.
    @Test(.timeLimit(.minutes(1))) func metadataModelRPMLimitIsHonoured() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let key = try await h.newKey(#"{"metadata":{"model_rpm_limit":{"m1":2}}}"#)
            for _ in 0..<2 {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            }
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 429)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m2"), key: key).status == 200)
        }
    }

    /// A team's `model_rpm_limit` binds each of its keys that has none of its own, and the team
    /// as a whole (LiteLLM's `model_per_key` from the team's metadata, and `model_per_team`).
    @Test(.timeLimit(.minutes(1))) func teamModelRPMLimitBindsItsKeys() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t-m","model_rpm_limit":{"m1":1}}"#).status == 200)
            let first = try await h.newKey(#"{"team_id":"t-m"}"#)
            let second = try await h.newKey(#"{"team_id":"t-m"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: first).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: first).status == 429)
            // The team's minute is used up by its first key.
            let teamRefused = try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: second)
            #expect(teamRefused.status == 429)
            #expect(teamRefused.json?["error"]?["message"]?.stringValue?.contains("model_per_team") == true)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m2"), key: second).status == 200)
            // A key outside the team is not bound.
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: try await h.newKey()).status == 200)
        }
    }

    /// Tokens count when a request settles: a limit below one request's 14 tokens admits the
    /// first request and refuses the next in that minute.
    @Test(.timeLimit(.minutes(1))) func modelTPMLimitRefusesOnceSettledTokensReachIt() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let limit = 20
            let key = try await h.newKey(#"{"model_tpm_limit":{"m1":\#(limit)}}"#)
            // 0 and then 14 tokens used, both under 20; then 28.
            #expect(Self.tokensPerRequest < limit && 2 * Self.tokensPerRequest >= limit)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            let refused = try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key)
            #expect(refused.status == 429 && refused.headers.first(name: "x-ratelimit-limit-tokens") == "\(limit)")
            #expect(refused.json?["error"]?["message"]?.stringValue?.contains("Limit type: tokens") == true)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m2"), key: key).status == 200)
            clock.advance(by: .seconds(45))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
        }
    }

    /// `model_max_budget`: the window opens at the first charge and lasts its period; spend on
    /// m1 reaching its budget refuses m1 (LiteLLM's `BudgetExceededError`, at
    /// `budget_exceeded_status_code`, 422 by default) while m2, budgeted in LiteLLM's other
    /// spelling, still works.
    @Test(.timeLimit(.minutes(1))) func modelMaxBudgetRefusesThatModelUntilTheWindowPasses() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            // Two requests: 0.024 then 0.048 spent; 0.04 is reached by the second.
            let budget = 0.04
            #expect(Self.costPerRequest < budget && 2 * Self.costPerRequest >= budget)
            let key = try await h.newKey(
                """
                {"key_alias":"per-model","model_max_budget":{"m1":{"budget_limit":\(budget),"time_period":"1d"},
                 "m2":{"max_budget":1,"budget_duration":"1d"}}}
                """)
            for _ in 0..<2 {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            }
            let refused = try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key)
            #expect(refused.status == 422 && refused.json?["error"]?["code"] == "budget_exceeded")
            let message = refused.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("exceeded budget for model=m1") && message.contains("per-model"), "\(message)")
            #expect(!message.contains(key))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m2"), key: key).status == 200)
            // `/key/info` shows the window as LiteLLM's `model_max_budget_usage` does.
            let usage = try await h.send("/key/info?key=\(key)").json?["info"]?["model_max_budget_usage"]
            #expect(
                abs((usage?["m1"]?["current_spend"]?.doubleValue ?? 0) - 2 * Self.costPerRequest) < 1e-9,
                "\(String(describing: usage))")
            #expect(usage?["m1"]?["budget_limit"]?.doubleValue == budget && usage?["m1"]?["time_period"] == "1d")
            #expect(usage?["m1"]?["budget_reset_at"]?.stringValue != nil)
            #expect(abs((usage?["m2"]?["current_spend"]?.doubleValue ?? 0) - Self.costPerRequest) < 1e-9)
            // Still within the day that started at the first charge.
            clock.advance(by: .seconds(86_400 - 60))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 422)
            clock.advance(by: .seconds(60))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
        }
    }

    /// The comma-separated fan-out sends each model through the flow, so each meets its own limit.
    @Test(.timeLimit(.minutes(1))) func fanOutMeetsEachModelsLimit() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let key = try await h.newKey(#"{"model_rpm_limit":{"m1":1}}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            let reply = try await h.send("/v1/chat/completions", json: Self.chat("m1,m2"), key: key)
            let answers = try #require(reply.json?.arrayValue)
            #expect(answers.count == 2)
            #expect(answers.first?["error"] != nil && answers.last?["choices"] != nil, "\(reply.text)")
        }
    }

    /// Anthropic's `/v1/messages` goes through the same flow, so the same per-model count binds it.
    @Test(.timeLimit(.minutes(1))) func messagesRouteMeetsTheSameLimit() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let key = try await h.newKey(#"{"model_rpm_limit":{"m1":1}}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("m1"), key: key).status == 200)
            let messages = #"{"model":"m1","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#
            let refused = try await h.send("/v1/messages", json: messages, key: key)
            #expect(refused.status == 429, "\(refused.text)")
        }
    }

    /// Limits that are not whole numbers of at least zero are ignored, never a failure.
    @Test(.timeLimit(.minutes(1))) func invalidLimitsAreIgnored() async throws {
        let clock = TestTime.clock(secondsIntoMinute: 15)
        try await Harness.with(config: Self.config, otlp: false, clock: clock) { h in
            let key = try await h.newKey(
                """
                {"model_rpm_limit":{"m1":-1,"m2":"1"},"model_tpm_limit":{"m1":1.5},
                 "metadata":{"model_rpm_limit":"m1"},"model_max_budget":{"m1":{"budget_limit":0,"time_period":"soon"}}}
                """)
            for model in ["m1", "m1", "m2", "m2"] {
                #expect(try await h.send("/v1/chat/completions", json: Self.chat(model), key: key).status == 200)
            }
        }
    }
}

/// Two replicas sharing a Redis: a key's per-model count and per-model spend hold across them.
@Suite(
    .serialized,
    .enabled(
        if: testRedisURL != nil || ProcessInfo.processInfo.environment["CI"] != nil,
        "no Redis: run `eval \"$(scripts/test-services.sh)\"` to start one"))
struct SharedPerModelLimitTests {
    static func config(redis: String) -> String {
        PerModelLimitTests.config + "\nrouter_settings: {redis_url: \"\(redis)\"}\n"
    }

    /// Two gateways on one database and one Redis.
    func pair(_ config: String, _ body: (Harness, Harness) async throws -> Void) async throws {
        try await Harness.with(config: config, otlp: false) { first in
            try await Harness.with(config: config, otlp: false, sharing: first.database) { second in
                try await body(first, second)
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func modelRPMLimitHoldsAcrossReplicas() async throws {
        let url = try #require(testRedisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "test"))
        try await pair(Self.config(redis: url)) { first, second in
            let key = try await first.newKey(#"{"model_rpm_limit":{"m1":1}}"#)
            let before = try await SharedStateTests.redisMinute(redis)
            #expect(try await first.send("/v1/chat/completions", json: PerModelLimitTests.chat("m1"), key: key).status == 200)
            let refused = try await second.send("/v1/chat/completions", json: PerModelLimitTests.chat("m1"), key: key)
            // Unless Redis's minute turned between the two requests.
            if try await SharedStateTests.redisMinute(redis) == before {
                #expect(refused.status == 429, "\(refused.text)")
            }
            #expect(try await second.send("/v1/chat/completions", json: PerModelLimitTests.chat("m2"), key: key).status == 200)
        }
        await redis.shutdown()
    }

    /// One request's 0.024 USD on the first replica reaches a 0.02 budget on the second.
    @Test(.timeLimit(.minutes(1))) func modelMaxBudgetHoldsAcrossReplicas() async throws {
        let url = try #require(testRedisURL, "CI starts a Redis (scripts/test-services.sh)")
        try await pair(Self.config(redis: url)) { first, second in
            let budget = 0.02
            #expect(PerModelLimitTests.costPerRequest >= budget)
            let key = try await first.newKey(#"{"model_max_budget":{"m1":{"budget_limit":\#(budget),"time_period":"1d"}}}"#)
            #expect(try await first.send("/v1/chat/completions", json: PerModelLimitTests.chat("m1"), key: key).status == 200)
            let refused = try await second.send("/v1/chat/completions", json: PerModelLimitTests.chat("m1"), key: key)
            #expect(refused.status == 422 && refused.json?["error"]?["code"] == "budget_exceeded", "\(refused.text)")
            #expect(try await second.send("/v1/chat/completions", json: PerModelLimitTests.chat("m2"), key: key).status == 200)
        }
    }
}
