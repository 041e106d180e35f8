import Foundation
import GatewayTesting
import Logging
import Redis
import Store
import Telemetry
import Testing

@testable import Proxy

/// The Redis `scripts/test-services.sh` started, if any.
let testRedisURL = ProcessInfo.processInfo.environment["SPANWAY_TEST_REDIS_URL"]

/// Replicas of one gateway sharing a Redis (and a database): limits hold across them, a cooldown
/// one replica starts holds on the others, and an unreachable Redis leaves them answering with
/// their own limits (fail-open) or refusing limited requests (fail-closed). Needs a Redis:
/// `eval "$(scripts/test-services.sh)"` sets SPANWAY_TEST_REDIS_URL; CI always sets it.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: testRedisURL != nil || ProcessInfo.processInfo.environment["CI"] != nil,
        "no Redis: run `eval \"$(scripts/test-services.sh)\"` to start one"))
struct SharedStateTests {
    static let redisURL = testRedisURL
    static let body = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#

    static func config(redis: String, models: String = "", router: String = "") -> String {
        """
        general_settings: {master_key: \(Harness.master)}
        router_settings: {redis_url: "\(redis)"\(router)}
        model_list:
          - {model_name: gpt-4o-mini, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: k}}
        \(models)
        """
    }

    /// `count` gateways on one database and one Redis, each with its own mock upstream.
    func replicas(
        _ count: Int, config: String, clock: any GatewayClock = SystemClock(), sharing database: SQLiteStore? = nil,
        _ body: ([Harness]) async throws -> Void
    ) async throws {
        try await Harness.with(config: config, otlp: false, clock: clock, sharing: database) { first in
            if count == 1 { return try await body([first]) }
            try await replicas(count - 1, config: config, clock: clock, sharing: first.database) { rest in
                try await body([first] + rest)
            }
        }
    }

    /// Redis's own minute (the one the limit windows are counted in).
    static func redisMinute(_ client: RedisClient) async throws -> Int64 {
        let time = try await client.send(["TIME"])
        return try #require(time.array?.first?.int) / 60
    }

    @Test func requestsPerMinuteHoldAcrossReplicas() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: .init(label: "test"))
        try await replicas(3, config: Self.config(redis: url)) { gateways in
            let key = try await gateways[0].newKey(#"{"rpm_limit":6}"#)
            let before = try await Self.redisMinute(redis)
            var answered = 0
            var refused = 0
            for index in 0..<12 {
                let reply = try await gateways[index % 3].send("/v1/chat/completions", json: Self.body, key: key)
                if reply.status == 200 { answered += 1 }
                if reply.status == 429 { refused += 1 }
            }
            let after = try await Self.redisMinute(redis)
            // Per replica, each would have admitted 6 (18 in all); shared, 6 in the minute. A run
            // that crossed a minute boundary may have admitted up to 6 more in the next window.
            if before == after {
                #expect(answered == 6 && refused == 6, "\(answered) answered, \(refused) refused")
            } else {
                #expect(answered >= 6 && answered <= 12 && answered + refused == 12)
            }
        }
        await redis.shutdown()
    }

    @Test func tokensPerMinuteHoldAcrossReplicas() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "test"))
        try await replicas(2, config: Self.config(redis: url)) { gateways in
            let key = try await gateways[0].newKey(#"{"tpm_limit":5}"#)
            let before = try await Self.redisMinute(redis)
            // The mock's answer uses more than 5 tokens: once settled on one replica, the other refuses.
            let first = try await gateways[0].send("/v1/chat/completions", json: Self.body, key: key)
            #expect(first.status == 200 && first.headers.first(name: "x-ratelimit-remaining-tokens") == "5")
            let second = try await gateways[1].send("/v1/chat/completions", json: Self.body, key: key)
            let after = try await Self.redisMinute(redis)
            if before == after {
                #expect(second.status == 429, "\(second.text)")
                #expect(second.json?["error"]?["message"] == "This key is limited to 5 tokens per minute.")
                #expect(second.headers.first(name: "x-ratelimit-remaining-tokens") == "0")
            }
        }
        await redis.shutdown()
    }

    @Test func parallelSlotsHoldAcrossReplicas() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let upstream = GatedUpstream()
        try await withTestServer(upstream.router()) { port in
            let gated =
                "  - {model_name: gated, litellm_params: {model: openai/gate-head, api_base: \"http://127.0.0.1:\(port)/v1\", api_key: k}}"
            try await replicas(3, config: Self.config(redis: url, models: gated)) { gateways in
                let key = try await gateways[0].newKey(#"{"max_parallel_requests":2}"#)
                let held = #"{"model":"gated","stream":true,"messages":[{"role":"user","content":"x"}]}"#
                async let first = gateways[0].send("/v1/chat/completions", json: held, key: key)
                async let second = gateways[1].send("/v1/chat/completions", json: held, key: key)
                var arrivals = upstream.arrivals.makeAsyncIterator()
                #expect(await arrivals.next() == "gate-head")
                #expect(await arrivals.next() == "gate-head")
                // Two in flight on two replicas: the third replica has no slot to give.
                let third = try await gateways[2].send("/v1/chat/completions", json: Self.body, key: key)
                #expect(
                    third.status == 429 && third.json?["error"]?["message"] == "This key is limited to 2 requests in parallel.",
                    "\(third.status) \(third.text)")
                upstream.release()
                #expect(try await first.status == 200)
                #expect(try await second.status == 200)
                // Both released their slots before their answers ended.
                #expect(try await gateways[2].send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            }
        }
    }

    /// A slot outlives its three-second lease while its request runs (its replica renews it every
    /// second), and is free as soon as the request ends.
    @Test func aRunningRequestKeepsItsSlotPastTheLease() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "test"))
        let upstream = GatedUpstream()
        try await withTestServer(upstream.router()) { port in
            let gated =
                "  - {model_name: gated, litellm_params: {model: openai/gate-head, api_base: \"http://127.0.0.1:\(port)/v1\", api_key: k}}"
            let config = Self.config(redis: url, models: gated, router: ", redis_lease_seconds: 3")
            try await replicas(2, config: config) { gateways in
                let key = try await gateways[0].newKey(#"{"max_parallel_requests":1}"#)
                let held = #"{"model":"gated","stream":true,"messages":[{"role":"user","content":"x"}]}"#
                async let first = gateways[0].send("/v1/chat/completions", json: held, key: key)
                try await upstream.releasing {
                    var arrivals = upstream.arrivals.makeAsyncIterator()
                    #expect(await arrivals.next() == "gate-head")
                    let start = try await redis.milliseconds()
                    try await gateways[1].eventually("more than two leases pass on Redis's clock") {
                        try await redis.milliseconds() >= start + 7000
                    }
                    let meanwhile = try await gateways[1].send("/v1/chat/completions", json: Self.body, key: key)
                    #expect(meanwhile.status == 429, "the running request still holds the only slot: \(meanwhile.text)")
                }
                #expect(try await first.status == 200)
                #expect(try await gateways[1].send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            }
        }
        await redis.shutdown()
    }

    /// A budget is one figure across replicas: while a request holds its estimate on one replica
    /// the others refuse, and once answered its cost counts on every replica at once (before its
    /// row is in the database). The replicas' clock is frozen, so their cached records never
    /// expire: only the published change can bring them a raised budget.
    @Test func aBudgetIsSharedByEveryReplica() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "test"))
        let upstream = GatedUpstream()
        try await withTestServer(upstream.router()) { port in
            // The gated upstream reports 7 prompt and 5 completion tokens: 12 × $0.001 = $0.012 a request.
            let priced = """
                  - {model_name: priced, litellm_params: {model: openai/gate-head, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.001}}
                """
            let frozen = ManualClock(seconds: Date().timeIntervalSince1970)
            try await replicas(3, config: Self.config(redis: url, models: priced), clock: frozen) { gateways in
                let key = try await gateways[0].newKey(#"{"max_budget":0.02}"#)
                // Its estimate (20 output tokens at least, $0.02) holds the whole budget while in flight.
                let body = #"{"model":"priced","stream":true,"max_tokens":20,"messages":[{"role":"user","content":"x"}]}"#
                async let first = gateways[0].send("/v1/chat/completions", json: body, key: key)
                try await upstream.releasing {
                    var arrivals = upstream.arrivals.makeAsyncIterator()
                    #expect(await arrivals.next() == "gate-head")
                    // A model that answers at once, so that a broken check fails here rather than waits at the gate.
                    let whileHeld = try await gateways[1].send("/v1/chat/completions", json: Self.body, key: key)
                    #expect(
                        whileHeld.status == 422 && whileHeld.json?["error"]?["type"] == "budget_exceeded", "\(whileHeld.text)")
                }
                #expect(try await first.status == 200)
                // $0.012 spent of $0.02: one more request is admitted (on a third replica), then none.
                #expect(try await gateways[2].send("/v1/chat/completions", json: body, key: key).status == 200)
                let spent = try await gateways[1].send("/v1/chat/completions", json: body, key: key)
                #expect(spent.status == 422, "\(spent.text)")
                #expect(spent.json?["error"]?["message"]?.stringValue?.contains("Current cost: 0.024") == true, "\(spent.text)")
                let base = "spanway:budget:{key:\(KeyDigest(key: key).hex)}"
                #expect(try await redis.send(["GET", base + ":spent"]).string == "24000000", "2 × $0.012 in nano-dollars")
                #expect(try await redis.send(["GET", base + ":held"]).string == "0", "no hold left behind")
                // A budget raised on one replica is seen by the others at once, and its spend taken again from the store.
                #expect(try await gateways[0].send("/key/update", json: #"{"key":"\#(key)","max_budget":1}"#).status == 200)
                try await gateways[1].eventually("the raised budget reaches the second replica") {
                    try await gateways[1].send("/v1/chat/completions", json: body, key: key).status == 200
                }
            }
        }
        await redis.shutdown()
    }

    /// The gateway's own budget (`litellm_settings.max_budget`) is one figure for every replica, and
    /// starts again from nothing on every replica when its period ends.
    @Test func theProxyBudgetIsSharedAndStartsAgainEachPeriod() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "test"))
        // The proxy budget's figures are the same keys for every gateway on this Redis: only this test uses them.
        let base = "spanway:budget:{\(ProxyBudget.subjectID)}"
        _ = try await redis.send(["DEL"] + [":spent", ":period", ":held", ":holds", ":exp"].map { base + $0 })
        // A whole hour (periods are counted from the Unix epoch), so the next one is an hour away.
        let clock = ManualClock(seconds: 1_800_000_000)
        // A dollar a token: one answer spends far more than the $5 budget.
        let models = """
              - {model_name: priced, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: k, input_cost_per_token: 1, output_cost_per_token: 1}}
            litellm_settings: {max_budget: 5, budget_duration: 1h}
            """
        try await replicas(2, config: Self.config(redis: url, models: models), clock: clock) { gateways in
            #expect(try await gateways[0].chat("priced").status == 200)
            let spent = try await gateways[1].chat("priced")
            #expect(spent.status == 422 && spent.json?["error"]?["type"] == "budget_exceeded", "\(spent.text)")
            clock.advance(by: .seconds(3600))
            #expect(try await gateways[1].chat("priced").status == 200, "a new period on every replica")
            let again = try await gateways[0].chat("priced")
            #expect(again.status == 422, "and the new period's spend is shared too: \(again.text)")
        }
        await redis.shutdown()
    }

    /// A key deleted or created on one replica is seen by the others without waiting for their
    /// caches to expire: their clock is frozen, so only the published change can reach them.
    @Test func keyChangesReachEveryReplicaAtOnce() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let frozen = ManualClock(seconds: Date().timeIntervalSince1970)
        try await replicas(2, config: Self.config(redis: url), clock: frozen) { gateways in
            let key = try await gateways[0].newKey()
            #expect(try await gateways[1].send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            #expect(try await gateways[0].send("/key/delete", json: #"{"keys":["\#(key)"]}"#).status == 200)
            try await gateways[1].eventually("the deleted key is refused on the other replica") {
                try await gateways[1].send("/v1/chat/completions", json: Self.body, key: key).status == 401
            }
            // Unknown on the second replica (and remembered as unknown), then made on the first.
            let named = "sk-replica-\(UUID().uuidString)"
            #expect(try await gateways[1].send("/v1/chat/completions", json: Self.body, key: named).status == 401)
            #expect(try await gateways[0].send("/key/generate", json: #"{"key":"\#(named)"}"#).status == 200)
            try await gateways[1].eventually("the new key works on the other replica") {
                try await gateways[1].send("/v1/chat/completions", json: Self.body, key: named).status == 200
            }
        }
    }

    @Test func aCooldownOnOneReplicaHoldsOnTheOthers() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        // Ids unique to this run: the cooldown channel is shared by everything on this Redis.
        let failing = "failing-\(UUID().uuidString)"
        let models = """
              - {model_name: mixed, litellm_params: {model: openai/error-500, api_base: "{upstream}", api_key: k}, model_info: {id: \(failing)}}
              - {model_name: mixed, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: k}, model_info: {id: healthy-\(UUID().uuidString)}}
            """
        let config = Self.config(redis: url, models: models, router: ", allowed_fails: 0, cooldown_time: 120, num_retries: 1")
        try await replicas(2, config: config) { gateways in
            // Until the failing deployment has failed once on the first replica (then it cools down).
            var tries = 0
            while gateways[0].gateway.router.cooldowns.isCooling(failing, now: Date().timeIntervalSince1970) == false {
                tries += 1
                try #require(tries <= 50, "the failing deployment was never picked")
                #expect(try await gateways[0].chat("mixed").status == 200)
            }
            try await gateways[1].eventually("the second replica adopts the cooldown") {
                try await gateways[1].exposition().value(
                    of: "spanway_deployment_state", labels: ["model_group": "mixed", "deployment": failing]) == 1
            }
            for _ in 0..<20 { #expect(try await gateways[1].chat("mixed").status == 200) }
            let sentToFailing = gateways[1].upstream.requests.withLock {
                $0.filter { String(decoding: $0.body, as: UTF8.self).contains("error-500") }.count
            }
            #expect(sentToFailing == 0, "the second replica never called the deployment the first cooled down")
        }
    }

    /// Usage-based routing reads every replica's usage: the deployments one replica filled this
    /// minute (rpm 1) are passed over by the other, which on its own counts would pick them first.
    @Test func usageBasedRoutingSeesEveryReplicasUsage() async throws {
        let url = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "test"))
        let tag = UUID().uuidString.prefix(8).lowercased()
        let small = (1...3).map { "small\($0)-\(tag)" }
        let big = "big-\(tag)"
        let deployments = (small.map { ($0, 1) } + [(big, 1000)]).map { name, rpm in
            "  - {model_name: usage, litellm_params: {model: openai/\(name), api_base: \"{upstream}\", api_key: k, rpm: \(rpm)}, model_info: {id: \(name)}}"
        }
        let config = Self.config(
            redis: url, models: deployments.joined(separator: "\n"), router: ", routing_strategy: usage-based-routing")
        func sentModels(_ log: UpstreamLog) -> [String] {
            log.requests.withLock { requests in
                requests.compactMap { try? JSONParser.parse(Array($0.body))["model"]?.stringValue }
            }
        }
        try await replicas(2, config: config) { gateways in
            let before = try await Self.redisMinute(redis)
            // Unused deployments rank first, and a small one is full after one request: one each.
            for _ in 0..<4 { #expect(try await gateways[0].chat("usage").status == 200) }
            #expect(Set(sentModels(gateways[0].upstream)) == Set(small + [big]))
            for gateway in gateways { await gateway.gateway.sharedState?.usage?.exchange() }
            for _ in 0..<5 { #expect(try await gateways[1].chat("usage").status == 200) }
            let sent = sentModels(gateways[1].upstream)
            if try await Self.redisMinute(redis) == before {
                #expect(sent == Array(repeating: big, count: 5), "the small deployments are full this minute: \(sent)")
            }
        }
        await redis.shutdown()
    }

    @Test func anUnreachableRedisFailsOpenWithLocalLimits() async throws {
        let port = try await unusedLoopbackPort()
        // A stopped clock: the local minute cannot roll over while the Redis connections time out.
        try await Harness.with(
            config: Self.config(redis: "redis://127.0.0.1:\(port)"), otlp: false, clock: TestTime.clock(secondsIntoMinute: 15)
        ) { h in
            let key = try await h.newKey(#"{"rpm_limit":2}"#)
            var statuses: [Int] = []
            for _ in 0..<3 { statuses.append(try await h.send("/v1/chat/completions", json: Self.body, key: key).status) }
            #expect(statuses == [200, 200, 429], "this replica's own limits meanwhile")
            let metrics = try await h.exposition()
            #expect(try metrics.value(of: "spanway_shared_state_degraded", labels: [:]) == 1)
            #expect((try metrics.value(of: "spanway_shared_state_errors_total", labels: [:]) ?? 0) >= 1)
        }
    }

    @Test func anUnreachableRedisFailsClosedWhenAsked() async throws {
        let port = try await unusedLoopbackPort()
        let config = Self.config(redis: "redis://127.0.0.1:\(port)", router: ", redis_failure_mode: fail-closed")
        try await Harness.with(config: config, otlp: false) { h in
            let key = try await h.newKey(#"{"rpm_limit":100}"#)
            let refused = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.json?["error"]?["message"]?.stringValue?.contains("Redis") == true)
            // A caller with no limits needs no shared state.
            #expect(try await h.send("/v1/chat/completions", json: Self.body).status == 200)
        }
    }
    /// Redis stopped mid-load and started again: answers never stop (fail-open, this replica's
    /// limits meanwhile), and the shared state is used again once Redis is back.
    @Test func redisStoppedAndRestartedMidLoad() async throws {
        _ = try #require(Self.redisURL, "CI starts a Redis (scripts/test-services.sh)")
        let port = try await unusedLoopbackPort()
        var server = try await OwnRedis.start(port: port)
        try await Harness.with(config: Self.config(redis: "redis://127.0.0.1:\(port)"), otlp: false) { h in
            let key = try await h.newKey(#"{"rpm_limit":1000}"#)
            func degraded() async throws -> Double? {
                try await h.exposition().value(of: "spanway_shared_state_degraded", labels: [:])
            }
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            #expect(try await degraded() == 0)
            await server.kill()
            for _ in 0..<5 {
                #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            }
            #expect(try await degraded() == 1)
            server = try await OwnRedis.start(port: port)
            // The client reconnects on a request after its backoff; the next admission is shared again.
            try await h.eventually("the gateway uses Redis again") {
                #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
                return try await degraded() == 0
            }
            let client = RedisClient(
                configuration: RedisConfiguration(host: "127.0.0.1", port: port), logger: Logger(label: "test"))
            let counted = try await client.send(["KEYS", "spanway:limit:*"])
            #expect(counted.array?.isEmpty == false, "the restarted Redis holds the key's window")
            await client.shutdown()
        }
        await server.kill()
    }
}

/// A `redis-server` of the test's own, on `port`, that the test can kill (with SIGKILL: the test
/// runner's threads block SIGTERM, and a child inherits that).
struct OwnRedis {
    let child: ChildProcess

    static func start(port: Int) async throws -> OwnRedis {
        let child = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            environment: ProcessInfo.processInfo.environment)
        let ready = await child.firstMatch(of: "Ready to accept connections")
        try #require(ready != nil, "redis-server did not start: \(child.output)")
        return OwnRedis(child: child)
    }

    func kill() async {
        if child.process.isRunning { Foundation.kill(child.process.processIdentifier, SIGKILL) }
        _ = await child.exit()
    }
}
