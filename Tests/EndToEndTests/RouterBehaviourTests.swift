import Foundation
import Store
import Telemetry
import Testing

@testable import Proxy

/// LiteLLM's router settings end to end: `num_retries` from each of its sources, timeouts that
/// answer 408 promptly whatever the upstream does, default parameters in `litellm_params`, and
/// tags that are always recorded but filter deployments only with `enable_tag_filtering`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RouterBehaviourTests {
    /// A lone failing deployment that is never cooled down, so every request reaches it.
    static func failingConfig(router: String = "", litellm: String = "") -> String {
        """
        router_settings: {allowed_fails: 1000\(router)}
        litellm_settings: {drop_params: false\(litellm)}
        model_list:
          - {model_name: failing, litellm_params: {model: openai/error-500, api_base: "{upstream}"}}
        """
    }

    /// Upstream calls one request made.
    static func attempts(_ h: Harness, body: String = "", headers: [(String, String)] = []) async throws -> Int {
        let before = h.upstream.count
        let reply = try await h.send(
            "/v1/chat/completions",
            json: #"{"model":"failing","messages":[{"role":"user","content":"x"}]"# + body + "}", headers: headers)
        #expect([500, 503].contains(reply.status), "\(reply.text)")
        return h.upstream.count - before
    }

    @Test func numRetriesFromTheConfigBoundsTheAttempts() async throws {
        // `num_retries: N` is N retries: at most N + 1 calls.
        for retries in [0, 1, 3] {
            try await Harness.with(config: Self.failingConfig(router: ", num_retries: \(retries)")) { (h) async throws in
                #expect(try await Self.attempts(h) == retries + 1, "router_settings.num_retries \(retries)")
            }
            try await Harness.with(config: Self.failingConfig(litellm: ", num_retries: \(retries)")) { (h) async throws in
                #expect(try await Self.attempts(h) == retries + 1, "litellm_settings.num_retries \(retries)")
            }
        }
        // router_settings wins over litellm_settings; with neither, LiteLLM's default of 2.
        try await Harness.with(config: Self.failingConfig(router: ", num_retries: 0", litellm: ", num_retries: 3")) {
            (h) async throws in
            #expect(try await Self.attempts(h) == 1)
        }
        try await Harness.with(config: Self.failingConfig()) { (h) async throws in
            #expect(try await Self.attempts(h) == 3, "the default is 2 retries")
            #expect(h.gateway.config.warnings.allSatisfy { !$0.path.contains("num_retries") })
        }
    }

    @Test func numRetriesFromTheRequestOverrideTheConfig() async throws {
        try await Harness.with(config: Self.failingConfig(router: ", num_retries: 2")) { (h) async throws in
            for retries in [0, 1, 3] {
                #expect(try await Self.attempts(h, body: #","num_retries":\#(retries)"#) == retries + 1, "body \(retries)")
                #expect(
                    try await Self.attempts(h, headers: [("x-litellm-num-retries", String(retries))]) == retries + 1,
                    "header \(retries)")
            }
            // The header wins over the body, as in LiteLLM.
            #expect(try await Self.attempts(h, body: #","num_retries":3"#, headers: [("x-litellm-num-retries", "0")]) == 1)
            #expect(
                h.upstream.requests.withLock {
                    $0.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("num_retries") }
                }, "num_retries is the gateway's, never the provider's")
            let bad = try await h.send(
                "/v1/chat/completions", json: #"{"model":"failing","num_retries":-1,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(bad.status == 400 && bad.json?["error"]?["param"] == "num_retries", "\(bad.text)")
        }
    }

    @Test func retryAfterIsTheLeastWaitBeforeARetry() async throws {
        // Two failing deployments: a retry on the other one would go at once without `retry_after`.
        let config = """
            router_settings: {num_retries: 1, allowed_fails: 1000, retry_after: 0.4}
            model_list:
              - {model_name: failing, litellm_params: {model: openai/error-500, api_base: "{upstream}"}, model_info: {id: a}}
              - {model_name: failing, litellm_params: {model: openai/error-503, api_base: "{upstream}"}, model_info: {id: b}}
            """
        try await Harness.with(config: config) { (h) async throws in
            let started = ContinuousClock.now
            #expect(try await Self.attempts(h) == 2)
            #expect(ContinuousClock.now - started >= .milliseconds(400), "the retry waited retry_after")
        }
    }

    /// The in-process `mock/slow-600000` holds its answer for ten minutes and ignores the
    /// transport's timeout: only the gateway's own deadline can end the wait. Over HTTP,
    /// `slow-5000` (short, so the mock server's stop is not held up by the handler it keeps).
    static let hangingConfig = """
        router_settings: {num_retries: 0, allowed_fails: 0, cooldown_time: 60}
        model_list:
          - {model_name: hang, litellm_params: {model: mock/slow-600000}, model_info: {id: hang}}
          - {model_name: hang-http, litellm_params: {model: openai/slow-5000, api_base: "{upstream}"}}
          - model_name: hang-configured
            litellm_params: {model: mock/slow-600000, timeout: 0.3}
            model_info: {id: hang-configured}
          - model_name: stall
            litellm_params: {model: mock/drip-600000, stream_timeout: 0.3}
            model_info: {id: stall}
        """

    /// `send`, which must answer well before the upstream would.
    static func prompt(_ send: () async throws -> Harness.Reply) async throws -> Harness.Reply {
        let started = ContinuousClock.now
        let reply = try await send()
        #expect(ContinuousClock.now - started < .seconds(3), "answered by the gateway's timeout, not the upstream")
        return reply
    }

    /// Checks LiteLLM's `Timeout` answer: 408, its wording and type, and the timeout used.
    static func expectTimeout(_ reply: Harness.Reply, seconds: String, _ comment: Comment) {
        #expect(reply.status == 408, "\(comment): \(reply.text)")
        #expect(reply.headers.first(name: "x-litellm-timeout") == seconds, "\(comment)")
        let error = reply.json?["error"]
        #expect(error?["type"] == "invalid_request_error", "\(comment)")
        let message = error?["message"]?.stringValue ?? ""
        #expect(
            message.hasPrefix("litellm.Timeout: APITimeoutError - Request timed out.")
                && message.contains("timeout value=\(seconds), time taken="), "\(comment): \(message)")
    }

    @Test func aRequestPastItsTimeoutAnswers408Promptly() async throws {
        try await Harness.with(config: Self.hangingConfig) { (h) async throws in
            let body = try await Self.prompt {
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"hang","timeout":0.3,"messages":[{"role":"user","content":"x"}]}"#)
            }
            Self.expectTimeout(body, seconds: "0.3", "body timeout")
            let requestTimeout = try await Self.prompt {
                try await h.send(
                    "/v1/chat/completions",
                    json: #"{"model":"hang","request_timeout":0.25,"messages":[{"role":"user","content":"x"}]}"#)
            }
            Self.expectTimeout(requestTimeout, seconds: "0.25", "body request_timeout")
            let header = try await Self.prompt { try await h.chat("hang", extra: [("x-litellm-timeout", "0.2")]) }
            Self.expectTimeout(header, seconds: "0.2", "x-litellm-timeout header")
            let configured = try await Self.prompt { try await h.chat("hang-configured") }
            Self.expectTimeout(configured, seconds: "0.3", "deployment timeout")
            let overHTTP = try await Self.prompt { try await h.chat("hang-http", extra: [("x-litellm-timeout", "0.2")]) }
            Self.expectTimeout(overHTTP, seconds: "0.2", "over HTTP")
            // The upstream never answers; the head never comes, so a stream gets a plain 408 too.
            let streamed = try await Self.prompt {
                try await h.chat("hang", stream: true, extra: [("x-litellm-stream-timeout", "0.2")])
            }
            Self.expectTimeout(streamed, seconds: "0.2", "x-litellm-stream-timeout header")
            #expect(
                h.upstream.requests.withLock {
                    $0.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("timeout") }
                }, "timeouts are the gateway's, never the provider's")
        }
    }

    @Test func aStalledStreamEndsWithLiteLLMsTimeoutAndCancelsTheUpstream() async throws {
        try await Harness.with(config: Self.hangingConfig) { (h) async throws in
            // `drip-600000` sends its first chunk, then nothing for ten minutes.
            let reply = try await Self.prompt { try await h.chat("stall", stream: true) }
            #expect(reply.status == 200)
            let events = reply.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
            #expect(events.count == 2 && !reply.text.contains("[DONE]"), "\(reply.text)")
            let last = try JSONParser.parse(Array((events.last ?? "").dropFirst(6).utf8))
            let message = last["error"]?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("litellm.Timeout:") && message.contains("timeout value=0.3,"), "\(message)")
            try await h.eventually("the upstream stream was abandoned") {
                h.upstream.abandonedStreams.load(ordering: .relaxed) == 1
            }
        }
    }

    @Test func aTimeoutTheClientChoseNeverCoolsTheDeployment() async throws {
        try await Harness.with(config: Self.hangingConfig) { (h) async throws in
            let cooldowns = h.gateway.router.cooldowns
            let now = Date().timeIntervalSince1970
            let clients = try await h.send(
                "/v1/chat/completions", json: #"{"model":"hang","timeout":0.2,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(clients.status == 408)
            #expect(!cooldowns.isCooling("hang", now: now + 1), "allowed_fails 0, yet a client's timeout is not counted")
            #expect(try await h.chat("hang", extra: [("x-litellm-timeout", "0.2")]).status == 408)
            #expect(!cooldowns.isCooling("hang", now: now + 1))
            // The deployment's own timeout is the deployment's failure: it cools down at once.
            #expect(try await h.chat("hang-configured").status == 408)
            #expect(cooldowns.isCooling("hang-configured", now: now + 1))
            #expect(try await h.chat("hang-configured").status == 429, "every deployment of the group is cooling down")
        }
    }

    @Test func timeoutsComeFromTheFirstSourceSetInLiteLLMsOrder() async throws {
        // litellm_settings.request_timeout comes before router_settings.timeout; a deployment's
        // own timeout before both; the request's before all of them.
        let config = """
            router_settings: {num_retries: 0, timeout: 0.4, stream_timeout: 0.35}
            litellm_settings: {request_timeout: 0.3}
            model_list:
              - {model_name: hang, litellm_params: {model: mock/slow-600000}}
              - {model_name: own, litellm_params: {model: mock/slow-600000, timeout: 0.2}}
            """
        try await Harness.with(config: config) { (h) async throws in
            Self.expectTimeout(try await h.chat("hang"), seconds: "0.3", "litellm_settings.request_timeout")
            Self.expectTimeout(try await h.chat("own"), seconds: "0.2", "deployment timeout")
            Self.expectTimeout(
                try await h.chat("own", extra: [("x-litellm-timeout", "0.25")]), seconds: "0.25", "request over deployment")
            Self.expectTimeout(try await h.chat("hang", stream: true), seconds: "0.35", "router_settings.stream_timeout")
            let other = try await h.chat("missing-model")
            #expect(other.headers.first(name: "x-litellm-timeout") == "0.3", "every error names the timeout")
        }
        try await Harness.with(config: "model_list: []") { (h) async throws in
            #expect(try await h.chat("x").headers.first(name: "x-litellm-timeout") == "6000.0", "LiteLLM's default")
        }
    }

    @Test func defaultParamsReachTheProviderUnderTheClientsOwn() async throws {
        let config = """
            router_settings: {num_retries: 0}
            model_list:
              - model_name: tuned
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: "{upstream}"
                  temperature: 0.2
                  max_tokens: 50
                  stop: ["END"]
                  seed: 7
                  extra_headers: {x-team: blue}
              - model_name: gemini
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: "{upstream_root}"
                  api_key: os.environ/E2E_UPSTREAM_KEY
                  logit_bias: {"50256": -100}
              - model_name: gemini-dropping
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: "{upstream_root}"
                  api_key: os.environ/E2E_UPSTREAM_KEY
                  logit_bias: {"50256": -100}
                  drop_params: true
            """
        try await Harness.with(config: config) { (h) async throws in
            #expect(h.gateway.config.warnings.allSatisfy { !$0.path.contains("litellm_params") }, "\(h.gateway.config.warnings)")
            #expect(try await h.chat("tuned").status == 200)
            let sent = try JSONParser.parse(try #require(h.upstream.last).body)
            #expect(sent["temperature"]?.doubleValue == 0.2 && sent["max_tokens"] == .int(50) && sent["seed"] == .int(7))
            #expect(sent["stop"] == .array(["END"]) && sent["extra_headers"] == nil)
            #expect(h.upstream.last?.headers.first(name: "x-team") == "blue")

            let own = try await h.send(
                "/v1/chat/completions",
                json: #"{"model":"tuned","temperature":0.9,"stop":null,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(own.status == 200)
            let overridden = try JSONParser.parse(try #require(h.upstream.last).body)
            #expect(overridden["temperature"]?.doubleValue == 0.9, "the client's value wins")
            #expect(overridden["max_tokens"] == .int(50), "defaults the client did not set still apply")
            #expect(overridden["stop"] == nil || overridden["stop"] == .null, "an explicit null is the client's choice")

            // A default the provider cannot take is refused like a client's, unless drop_params.
            let refused = try await h.chat("gemini")
            #expect(refused.status == 400 && refused.text.contains("logit_bias"), "\(refused.text)")
            #expect(try await h.chat("gemini-dropping").status == 200)
            #expect(!String(decoding: try #require(h.upstream.last).body, as: UTF8.self).contains("logit"))
        }
    }

    static func tagged(_ h: Harness, body: String = "", headers: [(String, String)] = []) async throws -> Harness.Reply {
        try await h.send(
            "/v1/chat/completions", json: #"{"model":"g","messages":[{"role":"user","content":"x"}]"# + body + "}",
            headers: headers)
    }

    /// The tags the ledger recorded for the request that got `reply`.
    static func recordedTags(_ h: Harness, _ reply: Harness.Reply) async throws -> [String]? {
        let id = try #require(reply.headers.first(name: "x-spanway-request-id"))
        let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
        return try #require(rows.first { $0.requestID == id }).tags
    }

    static let taggedDeployments = """
          - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", tags: [eu]}, model_info: {id: eu}}
          - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", tags: [us]}, model_info: {id: us}}
        """

    @Test func tagsAreAlwaysRecordedButFilterOnlyWhenEnabled() async throws {
        try await Harness.with(config: "model_list:\n" + Self.taggedDeployments) { (h) async throws in
            // Off by default: a tag no deployment has is recorded, not refused.
            let unknown = try await Self.tagged(h, body: #","metadata":{"tags":["apac"]}"#)
            #expect(unknown.status == 200, "\(unknown.text)")
            #expect(try await Self.recordedTags(h, unknown) == ["apac"])
            // Each source: the headers (comma-separated, trimmed), body `tags` in their place, `metadata.tags`.
            let headers = try await Self.tagged(h, headers: [("x-litellm-tags", " team-a , prod"), ("x-spanway-tags", "b")])
            #expect(try await Self.recordedTags(h, headers) == ["team-a", "prod", "b"])
            let replaced = try await Self.tagged(
                h, body: #","tags":["body"],"metadata":{"tags":["meta"]}"#, headers: [("x-litellm-tags", "header")])
            #expect(try await Self.recordedTags(h, replaced) == ["body", "meta"])
            var served = Set<String>()
            for _ in 0..<20 {
                served.insert(
                    try await Self.tagged(h, headers: [("x-litellm-tags", "us")]).headers.first(name: "x-litellm-model-id") ?? "")
            }
            #expect(served == ["eu", "us"], "without enable_tag_filtering, tags do not route")
            #expect(
                h.upstream.requests.withLock {
                    $0.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("tags") }
                })
        }

        let filtering = """
            router_settings: {enable_tag_filtering: true}
            model_list:
            """ + "\n" + Self.taggedDeployments
        try await Harness.with(config: filtering) { (h) async throws in
            for _ in 0..<10 {
                #expect(
                    try await Self.tagged(h, headers: [("x-litellm-tags", "us")]).headers.first(name: "x-litellm-model-id")
                        == "us")
                #expect(try await Self.tagged(h, body: #","tags":["eu"]"#).headers.first(name: "x-litellm-model-id") == "eu")
            }
            let refused = try await Self.tagged(h, body: #","tags":["apac","x"]"#)
            #expect(refused.status == 400)
            #expect(
                refused.json?["error"]?["message"]
                    == "Not allowed to access model due to tags configuration. Passed model=g and tags=['apac', 'x']",
                "\(refused.text)")
            #expect(try await Self.tagged(h).status == 200, "untagged requests go to every deployment when none is `default`")
        }

        let withDefault =
            filtering + """

                  - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", tags: [default]}, model_info: {id: any}}
                """
        try await Harness.with(config: withDefault) { (h) async throws in
            for _ in 0..<10 {
                #expect(try await Self.tagged(h).headers.first(name: "x-litellm-model-id") == "any", "untagged: the default pool")
                #expect(
                    try await Self.tagged(h, body: #","tags":["apac"]"#).headers.first(name: "x-litellm-model-id") == "any",
                    "no match: the default pool")
            }
        }
    }
}
