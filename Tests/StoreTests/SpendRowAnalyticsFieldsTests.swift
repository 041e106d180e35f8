import Foundation
import GRDB
import Testing

@testable import Store

/// The analytics columns of a spend row: written by the journal and the store, read back by both,
/// and absent (nil, not 0) in rows and journal lines written before they existed.
@Suite struct SpendRowAnalyticsFieldsTests {
    static let full: SpendRow = {
        var row = SpendRow(
            requestID: "req-1", traceID: "0af7651916cd43dd8448eb211c80319c", startTime: 1_700_000_000_123,
            endTime: 1_700_000_000_456, keyHash: "ab12", operation: "chat", model: "gpt-4o-mini", inputTokens: 12,
            outputTokens: 30, spend: 0.25, statusCode: 200, attempts: 3, fallbackDepth: 1, latencyMs: 333.25,
            upstreamLatencyMs: 321.5, overheadMs: 11.75, timeToFirstTokenMs: 42.125, tags: ["batch", "a \"quoted\" tag"],
            endUser: "end-user-7")
        row.evalRunID = "run"
        return row
    }()

    @Test func everyAnalyticsFieldRoundTripsThroughTheJournalAndTheStore() async throws {
        let line = SpendJournal.line(for: Self.full)
        #expect(try JSONDecoder().decode(SpendRow.self, from: Data(line.dropLast())) == Self.full)
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await store.recordSpend([Self.full])
        #expect(try await store.spendLogs(SpendQuery()) == [Self.full])
        // Tags are a JSON text array in the database, as `json_each` reads them.
        let tags = try await store.pool.read { db in try String.fetchOne(db, sql: "SELECT tags FROM spend_logs") }
        #expect(tags == #"["batch","a \"quoted\" tag"]"#)
    }

    /// A line exactly as the previous version wrote it, without the analytics keys.
    @Test func aJournalLineWithoutTheNewKeysStillDecodes() throws {
        let line = """
            {"requestID":"req-old","traceID":"t","startTime":1700000000000,"endTime":1700000000120,"keyHash":"k",\
            "keyAlias":null,"teamID":null,"userID":null,"orgID":null,"operation":"chat","model":"m","modelGroup":"g",\
            "deploymentID":"d","provider":"openai","inputTokens":10,"outputTokens":5,"cacheReadTokens":0,\
            "cacheCreationTokens":0,"reasoningTokens":0,"spend":0.5,"statusCode":200,"errorType":null,\
            "usageEstimated":false,"evalRunID":null,"evalItemID":null}
            """
        let row = try JSONDecoder().decode(SpendRow.self, from: Data(line.utf8))
        #expect(row.requestID == "req-old" && row.spend == 0.5 && row.outputTokens == 5)
        #expect(row.attempts == nil && row.fallbackDepth == nil && row.latencyMs == nil && row.upstreamLatencyMs == nil)
        #expect(row.overheadMs == nil && row.timeToFirstTokenMs == nil && row.tags == nil && row.endUser == nil)
    }

    /// Timings that are not numbers are written as unknown, not as invalid JSON.
    @Test func aTimingThatIsNotFiniteIsWrittenAsUnknown() throws {
        var row = Self.full
        row.latencyMs = .nan
        row.timeToFirstTokenMs = .infinity
        let decoded = try JSONDecoder().decode(SpendRow.self, from: Data(SpendJournal.line(for: row).dropLast()))
        #expect(decoded.latencyMs == nil && decoded.timeToFirstTokenMs == nil && decoded.overheadMs == 11.75)
    }

    /// A database as v8 left it: its row reads back with the new fields unknown, counts in
    /// analytics (not in the percentiles), and new rows carry every field.
    @Test func aVersion8DatabaseKeepsItsRowsAndTakesTheNewColumns() async throws {
        let path = try OlderDatabaseTests.database(atVersion: 8)
        let store = try SQLiteStore(path: path)
        let old = try #require(try await store.spendLogs(SpendQuery()).first)
        #expect(old.requestID == "req-old" && old.evalRunID == "run-old" && old.spend == 1.5)
        #expect(old.attempts == nil && old.latencyMs == nil && old.tags == nil && old.endUser == nil)
        var new = Self.full
        new.startTime = 1_700_000_000_500
        try await store.recordSpend([new])
        #expect(try await store.spendLogs(SpendQuery(since: 1_700_000_000_500)) == [new])
        let result = try await store.analytics(
            AnalyticsQuery(since: 1_700_000_000_000, until: 1_700_000_001_000, groupBy: [.provider]))
        #expect(result.total.requests == 2 && result.total.latencyP50Ms == 333.25 && result.total.latencyP99Ms == 333.25)
        #expect(result.groups.map(\.keys) == [["openai"], [""]])
    }
}
