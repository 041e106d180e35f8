import Foundation
import GRDB
import Testing

@testable import Store

/// Analytics over rows with known latencies. Every expected percentile below is worked out by
/// hand from the definition (sorted x₀…xₙ₋₁, h = (n − 1)·p, x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋)),
/// not by calling the code under test.
@Suite struct AnalyticsStoreTests {
    /// 2025-11-30T10:00:00Z.
    static let t0: Int64 = 1_764_496_800_000
    static let hour: Int64 = 3_600_000

    static func row(
        _ id: String, provider: String, at offset: Int64, latency: Double?, overhead: Double? = nil, ttft: Double? = nil,
        status: Int = 200, errorType: String? = nil, output: Int = 20, spend: Double = 0.001, tags: [String]? = nil,
        fallbackDepth: Int? = 0
    ) -> SpendRow {
        SpendRow(
            requestID: id, traceID: "trace-\(id)", startTime: t0 + offset, endTime: t0 + offset + 1, keyHash: "h-\(provider)",
            keyAlias: provider == "openai" ? "alias-o" : nil, teamID: "team-\(provider)", operation: "chat",
            model: "m-\(provider)", modelGroup: "g-\(provider)", deploymentID: "d-\(provider)", provider: provider,
            inputTokens: 10, outputTokens: output, spend: spend, statusCode: status, errorType: errorType,
            attempts: latency == nil ? nil : 1, fallbackDepth: latency == nil ? nil : fallbackDepth, latencyMs: latency,
            upstreamLatencyMs: latency.map { $0 - (overhead ?? 0) }, overheadMs: overhead, timeToFirstTokenMs: ttft,
            tags: tags)
    }

    /// Five openai rows in the first hour, three anthropic rows in the second (one written before
    /// the ledger recorded latency), and one row on each side of the window's edges.
    static func rows() -> [SpendRow] {
        [
            row("o1", provider: "openai", at: 0, latency: 100, overhead: 1, ttft: 50, tags: ["a", "b"]),
            row("o2", provider: "openai", at: 10, latency: 200, overhead: 2, ttft: 70, tags: ["a"]),
            row("o3", provider: "openai", at: 20, latency: 300, overhead: 3, ttft: 90, tags: []),
            row("o4", provider: "openai", at: 30, latency: 400, overhead: 4, fallbackDepth: 1),
            row(
                "o5", provider: "openai", at: 40, latency: 1000, overhead: 5, status: 502, errorType: "upstream_unavailable",
                output: 0, spend: 0),
            row("a1", provider: "anthropic", at: hour + 0, latency: 500, overhead: 6, spend: 0.01),
            row("a2", provider: "anthropic", at: hour + 10, latency: 700, overhead: 8, status: 500, output: 0, spend: 0),
            row("a-old", provider: "anthropic", at: hour + 20, latency: nil, spend: 0.01),
            row("before", provider: "openai", at: -1, latency: 5),
            row("after", provider: "openai", at: 2 * hour, latency: 5),
        ]
    }

    static func store(_ test: TestStore) async throws -> any GatewayStore {
        try await test.store.recordSpend(rows())
        return test.store
    }

    static let window = (since: t0, until: t0 + 2 * hour)

    @Test(arguments: StoreBackend.all)
    func groupsByProviderWithExactPercentilesRatesTokensAndCost(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = try await Self.store(test)
            let result = try await store.analytics(
                AnalyticsQuery(since: Self.window.since, until: Self.window.until, groupBy: [.provider]))
            #expect(result.groups.map(\.keys) == [["anthropic"], ["openai"]])  // largest spend first
            let openai = try #require(result.groups.first { $0.keys == ["openai"] })
            #expect(openai.requests == 5 && openai.errors == 1 && openai.errorRate == 0.2)
            #expect(openai.errorsByKind == ["upstream_unavailable": 1])
            #expect(openai.fallbacks == 1)
            // latencies 100, 200, 300, 400, 1000: p50 = x2; p95: h = 3.8 → 400 + 0.8·600; p99: h = 3.96.
            #expect(openai.latencyP50Ms == 300)
            #expect(abs(try #require(openai.latencyP95Ms) - 880) < 1e-9)
            #expect(abs(try #require(openai.latencyP99Ms) - 976) < 1e-9)
            // TTFT 50, 70, 90: p50 = 70; p95: h = 1.9 → 70 + 0.9·20.
            #expect(openai.timeToFirstTokenP50Ms == 70)
            #expect(abs(try #require(openai.timeToFirstTokenP95Ms) - 88) < 1e-9)
            #expect(openai.overheadP50Ms == 3)
            #expect(openai.inputTokens == 50 && openai.outputTokens == 80)
            #expect(abs(openai.spend - 0.004) < 1e-12)
            #expect(abs(try #require(openai.costPerMillionTokens) - 0.004 / 130 * 1e6) < 1e-9)
            // Generation time of the four successes: (99 − 50) + (198 − 70) + (297 − 90) + 396 = 780 ms for 80 tokens.
            #expect(abs(try #require(openai.outputTokensPerSecond) - 80 / 0.78) < 1e-9)

            let anthropic = try #require(result.groups.first { $0.keys == ["anthropic"] })
            // The row without latency counts in requests, tokens and cost, not in the percentiles.
            #expect(anthropic.requests == 3 && anthropic.errors == 1 && anthropic.errorsByKind == ["http_500": 1])
            #expect(anthropic.latencyP50Ms == 600)
            #expect(abs(try #require(anthropic.latencyP95Ms) - 690) < 1e-9)
            #expect(abs(try #require(anthropic.latencyP99Ms) - 698) < 1e-9)
            #expect(anthropic.timeToFirstTokenP50Ms == nil && anthropic.timeToFirstTokenP95Ms == nil)
            #expect(anthropic.inputTokens == 30 && anthropic.outputTokens == 40 && abs(anthropic.spend - 0.02) < 1e-12)
            // Only a1 counts (a-old has no upstream time): 20 tokens in 494 ms.
            #expect(abs(try #require(anthropic.outputTokensPerSecond) - 20 / 0.494) < 1e-9)

            // The total is over all eight rows; its percentiles are over the seven measured ones
            // (100…1000), never combined from the groups'.
            let total = result.total
            #expect(total.keys.isEmpty && total.requests == 8 && total.errors == 2 && total.errorRate == 0.25)
            #expect(total.errorsByKind == ["upstream_unavailable": 1, "http_500": 1])
            #expect(total.latencyP50Ms == 400)
            #expect(abs(try #require(total.latencyP95Ms) - 910) < 1e-9)
            #expect(abs(try #require(total.latencyP99Ms) - 982) < 1e-9)
        }
    }

    @Test(arguments: StoreBackend.all)
    func windowIncludesItsStartAndExcludesItsEnd(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = try await Self.store(test)
            let exact = try await store.analytics(AnalyticsQuery(since: Self.t0, until: Self.t0 + 40))
            #expect(exact.total.requests == 4)  // o1…o4; o5 starts at the end
            let none = try await store.analytics(AnalyticsQuery(since: Self.t0 + 3 * Self.hour, until: Self.t0 + 4 * Self.hour))
            #expect(none.groups.isEmpty && none.total.requests == 0 && none.total.latencyP50Ms == nil)
            #expect(
                none.total.errorRate == 0 && none.total.costPerMillionTokens == nil && none.total.outputTokensPerSecond == nil)
        }
    }

    @Test(arguments: StoreBackend.all)
    func groupsByTagCountingARequestOncePerTag(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = try await Self.store(test)
            let result = try await store.analytics(
                AnalyticsQuery(since: Self.window.since, until: Self.window.until, groupBy: [.tag]))
            let requests = Dictionary(uniqueKeysWithValues: result.groups.map { ($0.keys[0], $0.requests) })
            #expect(requests == ["a": 2, "b": 1, "": 6])
            let a = try #require(result.groups.first { $0.keys == ["a"] })
            #expect(a.latencyP50Ms == 150)
            #expect(result.total.requests == 8)
        }
    }

    @Test(arguments: StoreBackend.all)
    func groupsByHourInTimeOrderAndBySeveralDimensions(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = try await Self.store(test)
            let byHour = try await store.analytics(
                AnalyticsQuery(since: Self.window.since, until: Self.window.until, groupBy: [.hour]))
            #expect(byHour.groups.map(\.keys) == [["2025-11-30T10:00Z"], ["2025-11-30T11:00Z"]])
            #expect(byHour.groups.map(\.requests) == [5, 3])
            let byDay = try await store.analytics(
                AnalyticsQuery(since: Self.window.since, until: Self.window.until, groupBy: [.day]))
            #expect(byDay.groups.map(\.keys) == [["2025-11-30"]])
            let several = try await store.analytics(
                AnalyticsQuery(
                    since: Self.window.since, until: Self.window.until,
                    groupBy: [.operation, .keyAlias, .team, .modelGroup, .deployment, .model]))
            #expect(
                Set(several.groups.map(\.keys)) == [
                    ["chat", "alias-o", "team-openai", "g-openai", "d-openai", "m-openai"],
                    ["chat", "h-anthropic", "team-anthropic", "g-anthropic", "d-anthropic", "m-anthropic"],
                ])
        }
    }

    @Test(arguments: StoreBackend.all)
    func pruningDeletesOnlyOlderRowsAndKeepsTheDailyRollups(backend: StoreBackend) async throws {
        try await backend.withStore { test in
            let store = test.store
            // More than one prune batch of old rows (both stores delete 5000 per batch).
            let old = (0..<(SQLiteStore.pruneBatch * 2 + 1)).map {
                Self.row("old-\($0)", provider: "openai", at: -Self.hour, latency: 1)
            }
            try await store.recordSpend(old + [Self.row("new", provider: "openai", at: 0, latency: 1)])
            let rollupsBefore = try await test.rollups()
            #expect(try await store.pruneSpendLogs(before: Self.t0) == old.count)
            #expect(try await store.spendLogs(SpendQuery(limit: 100_000)).map(\.requestID) == ["new"])
            let rollupsAfter = try await test.rollups()
            #expect(rollupsAfter == rollupsBefore)
            #expect(rollupsAfter.map(\.requests).reduce(0, +) == old.count + 1)
            #expect(try await store.pruneSpendLogs(before: Self.t0) == 0)
        }
    }
}
