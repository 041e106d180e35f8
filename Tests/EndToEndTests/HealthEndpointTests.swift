import Foundation
import GatewayTesting
import HTTPTypes
import Store
import Synchronization
import Telemetry
import TelemetryTesting
import Testing

@testable import Proxy

/// `GET /health` (each deployment called cheaply, LiteLLM's answer shape, cached, feeding
/// cooldowns) and `GET /health/readiness` (the store checked for real).
@Suite(.serialized, .timeLimit(.minutes(3))) struct HealthEndpointTests {
    static let upstreamKey = "sk-health-upstream-secret-77"

    static var config: String {
        """
        model_list:
          - model_name: good
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: "{compat}/v1"
              api_key: \(upstreamKey)
              extra_headers: {x-apim-key: apim-header-value}
            model_info: {id: good-1}
          - model_name: broken
            litellm_params: {model: openai/leaky-401, api_base: "{compat}/v1", api_key: \(upstreamKey)}
            model_info: {id: broken-1}
          - model_name: broken
            litellm_params: {model: openai/leaky-401, api_base: "{compat}/v1", api_key: \(upstreamKey), rpm: 10}
            model_info: {id: broken-2}
          - model_name: embedder
            litellm_params: {model: openai/text-embedding-3-small, api_base: "{compat}/v1", api_key: \(upstreamKey)}
            model_info: {id: embed-1, mode: embedding}
          - model_name: painter
            litellm_params: {model: openai/dall-e-3, api_base: "{compat}/v1", api_key: \(upstreamKey)}
            model_info: {id: paint-1, mode: image_generation}
        general_settings: {master_key: sk-e2e-master, health_check_interval: 60}
        """
    }

    static func ids(_ list: JSONValue?) -> [String] {
        (list?.arrayValue ?? []).compactMap { $0["model_id"]?.stringValue }
    }

    @Test func reportsHealthyAndUnhealthyDeploymentsAndCoolsDownTheFailingOne() async throws {
        let clock = TestTime.clock()
        try await CompatUpstream.with(config: Self.config, clock: clock) { h, upstream in
            let reply = try await h.send("/health")
            #expect(reply.status == 200, "\(reply.text)")
            let body = try #require(reply.json)
            #expect(Self.ids(body["healthy_endpoints"]) == ["embed-1", "good-1"])
            #expect(Self.ids(body["unhealthy_endpoints"]) == ["broken-1", "broken-2"])
            #expect(body["healthy_count"]?.intValue == 2 && body["unhealthy_count"]?.intValue == 2)
            // An image model cannot be checked cheaply: listed as skipped, neither healthy nor not.
            #expect(Self.ids(body["skipped_endpoints"]) == ["paint-1"])
            #expect(upstream.calls(model: "dall-e-3") == 0)
            // Entries are litellm_params without credentials; the error names the failure, never the key
            // (the upstream put it in its message).
            let broken = try #require(body["unhealthy_endpoints"]?.arrayValue?.first)
            #expect(broken["model"]?.stringValue == "openai/leaky-401")
            let apiBase = broken["api_base"]?.stringValue ?? ""
            #expect(apiBase.hasPrefix("http://127.0.0.1:") && apiBase.hasSuffix("/v1"), "\(apiBase)")
            #expect(broken["error"]?.stringValue?.contains("Incorrect API key") == true, "\(reply.text)")
            #expect(!reply.text.contains(Self.upstreamKey) && !reply.text.contains(Harness.master))
            #expect(broken["api_key"] == nil)
            // The cheap calls: one token of chat, one short input to embed.
            #expect(upstream.calls(model: "gpt-4o-mini") == 1 && upstream.calls(model: "text-embedding-3-small") == 1)
            let probe = try #require(upstream.all.first { $0.model == "gpt-4o-mini" })
            #expect(probe.path == "/v1/chat/completions")
            // Called as a real request is: with the deployment's extra headers.
            #expect(probe.headers[HTTPField.Name("x-apim-key")!] == "apim-header-value")

            // The failing deployment now cools down as after a failed request: a client's request
            // for it is refused without reaching the upstream.
            let now = clock.nowSeconds()
            #expect(h.gateway.router.cooldowns.isCooling("broken-1", now: now))
            #expect(h.gateway.router.cooldowns.isCooling("broken-2", now: now))
            #expect(!h.gateway.router.cooldowns.isCooling("good-1", now: now))
            let before = upstream.calls(model: "leaky-401")
            let refused = try await h.chat("broken")
            #expect(refused.status == 429 || refused.status == 503, "\(refused.text)")
            #expect(refused.text.contains("cooldown"), "\(refused.text)")
            #expect(upstream.calls(model: "leaky-401") == before)
        }
    }

    @Test func resultsAreReusedWithinTheIntervalOfTheGatewayClock() async throws {
        let clock = TestTime.clock()
        try await CompatUpstream.with(config: Self.config, clock: clock) { h, upstream in
            #expect(try await h.send("/health").status == 200)
            #expect(upstream.calls(model: "gpt-4o-mini") == 1)
            clock.advance(by: .seconds(59))
            let again = try await h.send("/health")
            #expect(again.json?["healthy_count"]?.intValue == 2)
            #expect(upstream.calls(model: "gpt-4o-mini") == 1 && upstream.calls(model: "leaky-401") == 2)
            clock.advance(by: .seconds(2))
            #expect(try await h.send("/health").status == 200)
            #expect(upstream.calls(model: "gpt-4o-mini") == 2 && upstream.calls(model: "leaky-401") == 4)
        }
    }

    /// `background_health_checks: true`: a first round runs at start, unasked, and `/health` then
    /// answers from it.
    @Test func backgroundChecksRunUnasked() async throws {
        let config = Self.config.replacingOccurrences(
            of: "health_check_interval: 60}", with: "health_check_interval: 600, background_health_checks: true}")
        try await CompatUpstream.with(config: config, clock: TestTime.clock()) { h, upstream in
            try await h.eventually("a background round") {
                upstream.calls(model: "gpt-4o-mini") == 1 && upstream.calls(model: "leaky-401") == 2
                    && upstream.calls(model: "text-embedding-3-small") == 1
            }
            try await h.eventually("its results recorded") {
                try await h.send("/health").json?["unhealthy_count"]?.intValue == 2
            }
            #expect(upstream.calls(model: "gpt-4o-mini") == 1 && upstream.calls(model: "leaky-401") == 2)
        }
    }

    @Test func filtersByModelAndNeedsTheMasterKey() async throws {
        try await CompatUpstream.with(config: Self.config, clock: TestTime.clock()) { h, upstream in
            let one = try await h.send("/health?model=good")
            #expect(Self.ids(one.json?["healthy_endpoints"]) == ["good-1"], "\(one.text)")
            #expect(one.json?["unhealthy_count"]?.intValue == 0)
            #expect(upstream.calls(model: "leaky-401") == 0 && upstream.calls(model: "text-embedding-3-small") == 0)
            #expect(try await h.send("/health?model=nope").status == 404)
            #expect(try await h.send("/health", key: nil).status == 401)
            let key = try await h.newKey()
            #expect(try await h.send("/health", key: key).status == 403)
            // Liveness needs nothing, under both of LiteLLM's spellings.
            for path in ["/health/liveliness", "/health/liveness"] {
                #expect(try await h.send(path, key: nil).status == 200)
            }
        }
    }

    /// Liveness, readiness and scrapes answer while the stored models cannot be read; requests
    /// go on once they can.
    @Test func healthAndMetricsDoNotWaitForTheStoredModels() async throws {
        try await BreakableStore.withGateway { (h: Harness, store: BreakableStore) async throws in
            // Before the first request, the one that reads the stored models.
            store.holdsModels.store(true, ordering: .relaxed)
            defer { store.openModels.finish() }
            #expect(try await h.send("/health/liveliness", key: nil).status == 200)
            #expect(try await h.send("/health/readiness", key: nil).status == 200)
            #expect(try await h.send("/metrics").status == 200)
            store.openModels.finish()
            #expect(try await h.chat("gpt-4o-mini").status == 200)
        }
    }

    @Test func readinessReadsTheStore() async throws {
        try await BreakableStore.withGateway(otlp: true) { h, store in
            let ready = try await h.send("/health/readiness", key: nil)
            #expect(ready.status == 200)
            #expect(ready.json?["status"]?.stringValue == "healthy" && ready.json?["db"]?.stringValue == "connected")
            // The OTLP sink's queue, as far as the gateway knows it.
            let sinks = try #require(ready.json?["sinks"]?.arrayValue)
            #expect(!sinks.isEmpty && sinks.allSatisfy { $0["queue_depth"]?.intValue != nil && $0["dropped"]?.intValue != nil })

            store.broken.store(true, ordering: .relaxed)
            let broken = try await h.send("/health/readiness", key: nil)
            #expect(broken.status == 503, "\(broken.text)")
            #expect(broken.json?["status"]?.stringValue == "unhealthy" && broken.json?["db"]?.stringValue == "disconnected")
            store.broken.store(false, ordering: .relaxed)
            #expect(try await h.send("/health/readiness", key: nil).status == 200)
        }
    }
}

/// A store that fails every call while `broken` is set (a lost database), or only key inserts
/// while `refusesKeys` is.
final class BreakableStore: GatewayStore {
    struct Down: Error {}

    let base: any GatewayStore
    let broken = Atomic<Bool>(false)
    /// Fails only the inserts of keys (a store lost between two writes of one admin call).
    let refusesKeys = Atomic<Bool>(false)
    /// While set, reading the stored models waits until `openModels` finishes (a store that does
    /// not answer); one reader at a time.
    let holdsModels = Atomic<Bool>(false)
    let (modelsReadable, openModels) = AsyncStream<Void>.makeStream()

    init(wrapping base: any GatewayStore) {
        self.base = base
    }

    /// A gateway on `config` over a `BreakableStore`, handed to `body` with it.
    static func withGateway(
        config: String = e2eConfig, otlp: Bool = false, _ body: (Harness, BreakableStore) async throws -> Void
    ) async throws {
        let breakable = Mutex<BreakableStore?>(nil)
        try await Harness.with(
            config: config, otlp: otlp,
            wrapStore: { store in
                let wrapped = BreakableStore(wrapping: store)
                breakable.withLock { $0 = wrapped }
                return wrapped
            }
        ) { h in
            try await body(h, try #require(breakable.withLock { $0 }))
        }
    }

    private func up() throws {
        if broken.load(ordering: .relaxed) { throw Down() }
    }

    func insert<Record: LimitedRecord>(_ record: Record) async throws {
        try up()
        if Record.self == VirtualKey.self, refusesKeys.load(ordering: .relaxed) { throw Down() }
        try await base.insert(record)
    }
    func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record? {
        try up()
        return try await base.fetch(type, id: id)
    }
    func update<Record: LimitedRecord>(_ record: Record) async throws {
        try up()
        try await base.update(record)
    }
    func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int {
        try up()
        return try await base.delete(type, ids: ids)
    }
    func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int) {
        try up()
        return try await base.keys(teamID: teamID, userID: userID, limit: limit, offset: offset)
    }
    func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int) {
        try up()
        return try await base.users(limit: limit, offset: offset)
    }
    func teams() async throws -> [Team] {
        try up()
        return try await base.teams()
    }
    func organizations() async throws -> [Organization] {
        try up()
        return try await base.organizations()
    }
    func recordSpend(_ rows: [SpendRow]) async throws {
        try up()
        try await base.recordSpend(rows)
    }
    func spendLogs(_ query: SpendQuery) async throws -> [SpendRow] {
        try up()
        return try await base.spendLogs(query)
    }
    func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool {
        try up()
        return try await base.resetBudget(of: owner, id: id, dueBy: now, next: next)
    }
    func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal] {
        try up()
        return try await base.spendReport(by: grouping, since: since, until: until)
    }
    func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult {
        try up()
        return try await base.analytics(query)
    }
    func pruneSpendLogs(before: Int64) async throws -> Int {
        try up()
        return try await base.pruneSpendLogs(before: before)
    }
    func storedModels() async throws -> [StoredModel] {
        if holdsModels.load(ordering: .relaxed) { for await _ in modelsReadable {} }
        try up()
        return try await base.storedModels()
    }
    func saveResponse(_ record: StoredResponseRecord) async throws {
        try up()
        try await base.saveResponse(record)
    }
    func storedResponse(id: String, now: Double) async throws -> StoredResponseRecord? {
        try up()
        return try await base.storedResponse(id: id, now: now)
    }
    func deleteResponse(id: String, owner: String?) async throws -> Bool {
        try up()
        return try await base.deleteResponse(id: id, owner: owner)
    }
    func deleteExpiredResponses(now: Double) async throws -> Int {
        try up()
        return try await base.deleteExpiredResponses(now: now)
    }
}
