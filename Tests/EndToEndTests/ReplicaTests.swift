import Foundation
import GatewayTesting
import Store
import Synchronization
import Telemetry
import TelemetryTesting
import Testing

/// Three `spanway serve` processes sharing one PostgreSQL and one Redis act as one gateway: a
/// key's limits and budget hold for the fleet, a cooldown one replica starts holds on the others,
/// and a replica killed with SIGKILL loses no answered spend and frees its parallel slot when the
/// slot's lease runs out. Needs SPANWAY_TEST_REDIS_URL and SPANWAY_TEST_DATABASE_URL
/// (`eval "$(scripts/test-services.sh)"`) and the built binary; CI always runs it.
@Suite(
    .serialized, .timeLimit(.minutes(3)),
    .enabled(
        if: Replicas.runnable,
        "needs SPANWAY_TEST_REDIS_URL, SPANWAY_TEST_DATABASE_URL (`eval \"$(scripts/test-services.sh)\"`) and .build/debug/spanway"
    ))
struct ReplicaTests {
    /// The upstream's price, per token, set in the config: each answer (10 prompt and 5
    /// completion tokens) costs 10 × 1e-6 + 5 × 2e-6 = 2e-5 USD.
    static let inputPrice = 0.000001
    static let outputPrice = 0.000002
    static let answerCost = 0.00002

    /// `model_list` entries for the upstream on `port`: `(group, upstream model)`, each with an id
    /// unique to this run (cooldowns are shared by every gateway on the test Redis, by id).
    static func models(_ entries: [(group: String, upstream: String, id: String)], port: Int) -> String {
        "model_list:\n"
            + entries.map { entry in
                "  - {model_name: \(entry.group), litellm_params: {model: openai/\(entry.upstream), "
                    + "api_base: \"http://127.0.0.1:\(port)/v1\", api_key: k, input_cost_per_token: \(inputPrice), "
                    + "output_cost_per_token: \(outputPrice)}, model_info: {id: \(entry.id)}}"
            }.joined(separator: "\n")
    }

    static func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.lowercased())" }

    static func body(_ model: String) -> String {
        #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#
    }

    /// 150 requests spread over three replicas against `rpm_limit: 60`: each replica alone would
    /// admit all of its 50, shared they admit exactly 60 in the minute and refuse the rest.
    @Test func requestsPerMinuteHoldAcrossThreeProcesses() async throws {
        let upstream = ReplicaUpstream()
        try await upstream.serve { port in
            let config = Self.models([("quick", "quick", Self.unique("quick"))], port: port)
            try await Replicas.with(3, config: config) { replicas in
                let key = try await replicas[0].newKey(#"{"rpm_limit":60}"#)
                // Windows are fixed minutes of Redis's clock. Starting with at least 20 s of the
                // minute left keeps the burst (a few seconds) in one window: read the clock until then.
                try await eventually("Redis's clock reaches the first 40 s of a minute") {
                    try await replicas.redisMilliseconds() / 1000 % 60 <= 40
                }
                let before = try await replicas.redisMilliseconds() / 60_000
                let clients = try (0..<3).map { try replicas[$0] }
                let replies = try await withThrowingTaskGroup(of: GatewayClient.Reply.self) { group in
                    for index in 0..<150 {
                        group.addTask {
                            try await clients[index % 3].send("/v1/chat/completions", json: Self.body("quick"), key: key)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let after = try await replicas.redisMilliseconds() / 60_000
                let answered = replies.filter { $0.status == 200 }.count
                let refused = replies.filter { $0.status == 429 }
                #expect(answered + refused.count == 150, "only answers and rate-limit refusals")
                #expect(
                    refused.allSatisfy {
                        $0.json?["error"]?["message"] == "This key is limited to 60 requests per minute."
                            && $0.headers.first(name: "retry-after") != nil
                    })
                if before == after {
                    // ±1 % of 60 is less than one request: exactly 60.
                    #expect(answered == 60, "\(answered) answered in one minute")
                    #expect(upstream.received("quick") == 60)
                } else {
                    // The burst outlasted the 20 s margin and crossed into the next window, which
                    // admits 60 of its own: at most 60 per window.
                    #expect(answered >= 60 && answered <= 120, "\(answered) answered across two minutes")
                }
            }
        }
    }

    /// `max_parallel_requests: 4` across three replicas: twelve requests at once, the upstream
    /// holding those that reach it. Four reach it, eight are refused; once released, the slots
    /// are free again on every replica.
    @Test func parallelRequestsHoldAcrossThreeProcesses() async throws {
        let upstream = ReplicaUpstream()
        try await upstream.serve { port in
            let config = Self.models(
                [("held", "held", Self.unique("held")), ("quick", "quick", Self.unique("quick"))], port: port)
            try await Replicas.with(3, config: config) { replicas in
                let key = try await replicas[0].newKey(#"{"max_parallel_requests":4}"#)
                let clients = try (0..<3).map { try replicas[$0] }
                // nil: a request reached the upstream (and waits there); a number: a request's status.
                let (events, event) = AsyncStream<Int?>.makeStream()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in upstream.heldArrivals { event.yield(nil) }
                    }
                    for index in 0..<12 {
                        group.addTask {
                            // A failed call counts too (as -1), so the wait below always ends.
                            let reply = try? await clients[index % 3].send(
                                "/v1/chat/completions", json: Self.body("held"), key: key)
                            event.yield(reply?.status ?? -1)
                        }
                    }
                    var arrived = 0
                    var refusals: [Int] = []
                    var iterator = events.makeAsyncIterator()
                    // Every request either reaches the upstream or is answered before the release.
                    while arrived + refusals.count < 12, let next = await iterator.next() {
                        if let status = next { refusals.append(status) } else { arrived += 1 }
                    }
                    #expect(arrived == 4 && upstream.holding == 4, "\(arrived) at the upstream")
                    #expect(refusals == Array(repeating: 429, count: 8), "\(refusals)")
                    upstream.release()
                    var answers: [Int] = []
                    while answers.count < arrived, let next = await iterator.next() {
                        if let status = next { answers.append(status) }
                    }
                    #expect(answers == Array(repeating: 200, count: arrived))
                    group.cancelAll()
                }
                #expect(upstream.mostHeld == 4, "never more than 4 in flight at the upstream")
                // Every slot was given back: four at once are admitted again, on any replica.
                let again = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<4 {
                        group.addTask {
                            try await clients[index % 3].send("/v1/chat/completions", json: Self.body("held"), key: key).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(again == [200, 200, 200, 200])
                #expect(upstream.mostHeld == 4)
            }
        }
    }

    /// A deployment that fails on one replica is cooled down there, and the other replicas send
    /// it nothing (counted at the upstream) while the healthy deployment of its group answers.
    @Test func aCooldownOnOneProcessHoldsOnTheOthers() async throws {
        let upstream = ReplicaUpstream()
        try await upstream.serve { port in
            let failing = Self.unique("failing")
            let healthy = Self.unique("healthy")
            let probe = Self.unique("probe")
            let config =
                Self.models([("mixed", "failing", failing), ("mixed", "quick", healthy), ("probe", "quick", probe)], port: port)
                + "\nrouter_settings: {allowed_fails: 0, cooldown_time: 600, num_retries: 1}"
            try await Replicas.with(3, config: config) { replicas in
                let clients = try (0..<3).map { try replicas[$0] }
                func cooling(_ client: GatewayClient, _ id: String) async throws -> Bool {
                    let metrics = try MetricsExposition(try await client.send("/metrics", key: Replicas.master).text)
                    return try metrics.value(of: "spanway_deployment_state", labels: ["deployment": id]) == 1
                }
                // Cooldowns travel by publish/subscribe, which keeps nothing for a subscriber that
                // is not there yet: a probe cooldown, published by hand until every replica shows
                // it, proves each one listens before the test relies on it.
                for client in clients {
                    try await eventually("\(client.baseURL) follows the cooldown channel") {
                        _ = try await replicas.redis.publish("spanway:cooldowns", "600 \(probe)")
                        return try await cooling(client, probe)
                    }
                }
                // Through the first replica until it has called the failing deployment (which
                // cools it down there at once: allowed_fails 0); the retry answers from the healthy one.
                var tries = 0
                while upstream.received("failing") == 0 {
                    tries += 1
                    try #require(tries <= 50, "the failing deployment was never picked")
                    #expect(
                        try await clients[0].send("/v1/chat/completions", json: Self.body("mixed"), key: Replicas.master).status
                            == 200)
                }
                #expect(try await cooling(clients[0], failing), "the first replica cooled it down itself")
                for client in clients[1...] {
                    try await eventually("\(client.baseURL) adopts the cooldown") { try await cooling(client, failing) }
                }
                let failed = upstream.received("failing")
                let served = upstream.received("quick")
                for index in 0..<30 {
                    let reply = try await clients[1 + index % 2].send(
                        "/v1/chat/completions", json: Self.body("mixed"), key: Replicas.master)
                    #expect(reply.status == 200 && reply.headers.first(name: "x-spanway-deployment") == healthy)
                }
                #expect(upstream.received("failing") == failed, "the other replicas never called the cooled deployment")
                #expect(upstream.received("quick") == served + 30)
            }
        }
    }

    /// The load on a fleet: answers received, by request id, and a way to wait for a number of
    /// them; whether the load should stop, and whether a replica was killed.
    final class Load: Sendable {
        let stopped = Atomic<Bool>(false)
        let killed = Atomic<Bool>(false)
        private let state = Mutex<(ids: [String], waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)])>(
            ([], []))

        var ids: Set<String> { Set(state.withLock { $0.ids }) }

        func record(_ id: String) {
            let ready = state.withLock { state in
                state.ids.append(id)
                let count = state.ids.count
                let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
                state.waiters.removeAll { $0.count <= count }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }

        /// Returns once `count` answers in all have arrived.
        func wait(for count: Int) async {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state in
                    if state.ids.count >= count { return true }
                    state.waiters.append((count, continuation))
                    return false
                }
                if done { continuation.resume() }
            }
        }
    }

    /// `kill -9` of one replica under load, holding a parallel slot: every answered request's
    /// spend row reaches PostgreSQL once the replica is restarted on its journal, and the slot
    /// is held by a lease that lapses within its length (10 seconds here), not for ever.
    @Test func killingOneProcessLosesNoSpendAndItsSlotExpires() async throws {
        let upstream = ReplicaUpstream()
        try await upstream.serve { port in
            let config =
                Self.models([("held", "held", Self.unique("held")), ("quick", "quick", Self.unique("quick"))], port: port)
                + "\nrouter_settings: {redis_lease_seconds: 10}"
            try await Replicas.with(3, config: config) { replicas in
                let loadKey = try await replicas[0].newKey()
                let slotKey = try await replicas[0].newKey(#"{"max_parallel_requests":1}"#)
                let clients = try (0..<3).map { try replicas[$0] }
                let load = Load()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Four clients per replica, each sending one request after another.
                    for worker in 0..<12 {
                        group.addTask {
                            let client = clients[worker % 3]
                            while !load.stopped.load(ordering: .relaxed) {
                                do {
                                    let reply = try await client.send(
                                        "/v1/chat/completions", json: Self.body("quick"), key: loadKey)
                                    if reply.status == 200, let id = reply.headers.first(name: "x-spanway-request-id") {
                                        load.record(id)
                                    } else {
                                        Issue.record("\(reply.status): \(reply.text)")
                                    }
                                } catch {
                                    // Only the killed replica's connections may fail.
                                    if worker % 3 == 0 && load.killed.load(ordering: .relaxed) { return }
                                    throw error
                                }
                            }
                        }
                    }
                    await load.wait(for: 60)
                    // The slot key's one request waits at the upstream, through the first replica.
                    group.addTask {
                        _ = try? await clients[0].send("/v1/chat/completions", json: Self.body("held"), key: slotKey)
                    }
                    for await _ in upstream.heldArrivals { break }
                    load.killed.store(true, ordering: .relaxed)
                    await replicas.kill(0)
                    // The dead replica's slot is still taken: no other replica may admit a second request.
                    let refused = try await clients[1].send("/v1/chat/completions", json: Self.body("quick"), key: slotKey)
                    #expect(refused.status == 429, "\(refused.text)")
                    #expect(refused.json?["error"]?["message"] == "This key is limited to 1 requests in parallel.")
                    // Still under load on the other two.
                    await load.wait(for: load.ids.count + 30)
                    load.stopped.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                }

                // Nobody renews the dead replica's lease: it lapses, and another replica admits the key again.
                try await eventually("the dead replica's slot is free again") {
                    try await clients[2].send("/v1/chat/completions", json: Self.body("quick"), key: slotKey).status == 200
                }

                // Restarted on its directory, the killed replica ingests what its journal holds; the
                // clean stops ingest the rest.
                try await replicas.start(0)
                await replicas.stopAll()
                for index in 0..<3 { #expect(replicas.journalFiles(index).isEmpty, "replica \(index) left journal rows") }
                let answered = load.ids
                let rows = Set(try await replicas.spendRows(keyHash: KeyDigest(key: loadKey).hex).map(\.requestID))
                #expect(answered.count >= 90)
                #expect(answered.isSubset(of: rows), "\(answered.subtracting(rows).count) answered requests have no row")
                // Rows beyond the answers: requests the killed replica settled but could not answer.
                #expect(rows.count - answered.count <= 4)
            }
        }
    }

    /// A key whose budget about 20 answers exhaust, loaded by 8 clients over three replicas:
    /// spend overshoots the budget by at most the 8 requests in flight when it ran out, and then
    /// every replica refuses the key.
    @Test func aBudgetHoldsAcrossThreeProcesses() async throws {
        let upstream = ReplicaUpstream()
        try await upstream.serve { port in
            let config = Self.models([("quick", "quick", Self.unique("quick"))], port: port)
            try await Replicas.with(3, config: config) { replicas in
                // 19.5 answers' worth: the 20th crosses it, and no sum lands on it exactly.
                let budget = 19.5 * Self.answerCost
                let key = try await replicas[0].newKey(#"{"max_budget":\#(budget)}"#)
                let clients = try (0..<3).map { try replicas[$0] }
                // An output limit near the answer's keeps each estimate near its cost, so the eight overlap.
                let body = #"{"model":"quick","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#
                let answered = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var costs: [Double] = []
                            // Bounded, so a budget that never holds ends the test rather than hanging it.
                            for _ in 0..<40 {
                                let reply = try await clients[worker % 3].send("/v1/chat/completions", json: body, key: key)
                                if reply.status != 200 {
                                    #expect(reply.status == 422 && reply.json?["error"]?["type"] == "budget_exceeded")
                                    break
                                }
                                costs.append(Double(reply.headers.first(name: "x-spanway-response-cost") ?? "") ?? -1)
                            }
                            return costs
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(answered.allSatisfy { abs($0 - Self.answerCost) < 1e-12 }, "each answer costs 2e-5 USD")
                // Spent: every replica refuses it now.
                for client in clients {
                    let reply = try await client.send("/v1/chat/completions", json: Self.body("quick"), key: key)
                    #expect(reply.status == 422 && reply.json?["error"]?["type"] == "budget_exceeded", "\(reply.text)")
                }
                await replicas.stopAll()
                let rows = try await replicas.spendRows(keyHash: KeyDigest(key: key).hex).filter { $0.statusCode == 200 }
                let spent = rows.reduce(0) { $0 + $1.spend }
                #expect(rows.count == answered.count)
                #expect(spent <= budget + 8 * Self.answerCost + 1e-12, "spent \(spent) of \(budget) in \(rows.count) answers")
                #expect(upstream.received("quick") == answered.count)
            }
        }
    }
}
