import Foundation
import Testing

@testable import Store

/// The spend journal: a row is durable once `commit` returns, even when the store cannot take it
/// yet, and what a crash leaves between the journal and the store is in the store after the
/// next start, counted once.
@Suite(.timeLimit(.minutes(3))) struct SpendJournalTests {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spanway-journal-\(UUID().uuidString)").path
    }

    static func segments(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
    }

    /// Every field, set and unset, survives the journal and the store: a row written by hand as
    /// JSON reads back with `JSONDecoder`, and the store's spelled-out insert keeps every column.
    @Test func everyFieldRoundTripsThroughTheJournalAndTheStore() async throws {
        var full = SpendRow(
            requestID: "req-\"quoted\"\n", traceID: "0af7651916cd43dd8448eb211c80319c", startTime: 1_700_000_000_123,
            endTime: 1_700_000_000_456, keyHash: "ab12", keyAlias: "alias é", teamID: "t1", userID: "u1", orgID: "o1",
            operation: "chat", model: "gpt-4o-mini", modelGroup: "mini", deploymentID: "mini-0", provider: "openai",
            inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1000, cacheCreationTokens: 7, reasoningTokens: 3,
            spend: 0.000_123_456_789, statusCode: 200, errorType: "timeout")
        full.usageEstimated = true
        let sparse = SpendRow(requestID: "r2", traceID: "t", startTime: 0, endTime: 1, operation: "embeddings", statusCode: 500)
        for row in [full, sparse] {
            let line = SpendJournal.line(for: row)
            #expect(line.last == UInt8(ascii: "\n") && line.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") })
            #expect(try JSONDecoder().decode(SpendRow.self, from: Data(line.dropLast())) == row)
        }
        let database = try SQLiteStore(path: temporaryDatabasePath())
        try await database.recordSpend([full, sparse])
        let stored = try await database.spendLogs(SpendQuery()).sorted { $0.requestID < $1.requestID }
        #expect(stored == [full, sparse].sorted { $0.requestID < $1.requestID })
    }

    @Test func commitReturnsOnceTheRowIsJournaledEvenWhenTheStoreIsDown() async throws {
        let database = try SQLiteStore(path: temporaryDatabasePath())
        let failing = CountingStore(database, failing: true)
        let directory = Self.directory()
        let ledger = SpendLedger(store: failing, journal: try SpendJournal(directory: directory))
        for i in 0..<20 { try await ledger.commit(spendRow("r\(i)")) }
        await ledger.flush()  // returns after the failed write instead of waiting for the store

        #expect(try await database.spendLogs(SpendQuery()).isEmpty)
        #expect(failing.transactions.load(ordering: .relaxed) >= 1)
        // The rows are in the journal's files: the next process sees every one of them.
        ledger.journal?.close(drained: false)
        let reader = try SpendJournal(directory: directory)
        let leftover = reader.leftover()
        #expect(Set(leftover.rows.map(\.row.requestID)) == Set((0..<20).map { "r\($0)" }))
        #expect(leftover.unreadableLines == 0)
        reader.close(drained: false)
    }

    /// A crash between the journal and the store: the process journaled rows the store never got
    /// (its store was failing; then it was killed). The next start writes them, adds their spend
    /// to the key and team once, and a start after that adds nothing again.
    @Test func rowsLeftBetweenJournalAndStoreAreWrittenOnceAtTheNextStart() async throws {
        let path = temporaryDatabasePath()
        let database = try SQLiteStore(path: path)
        try await database.insert(VirtualKey(token: "k1", keyName: "sk-...k1", teamID: "t1", createdAt: 0))
        try await database.insert(Team(teamID: "t1", createdAt: 0))
        let directory = Self.directory()

        let crashed = SpendLedger(store: CountingStore(database, failing: true), journal: try SpendJournal(directory: directory))
        for i in 0..<50 { try await crashed.commit(spendRow("r\(i)", key: "k1", team: "t1", spend: 0.25)) }
        await crashed.flush()
        #expect(try await database.spendLogs(SpendQuery()).isEmpty)
        // The process dies: its journal's files stay, its lock goes (the kernel releases it).
        crashed.journal?.close(drained: false)

        let restarted = SpendLedger(store: database, journal: try SpendJournal(directory: directory))
        await restarted.flush()
        #expect(try await database.spendLogs(SpendQuery(limit: 100)).count == 50)
        #expect(try await database.fetch(VirtualKey.self, id: "k1")?.limits.spend == 12.5)
        #expect(try await database.fetch(Team.self, id: "t1")?.limits.spend == 12.5)
        await restarted.close()
        #expect(Self.segments(in: directory).isEmpty, "a drained journal is deleted at close")

        // The crashed process's segments are gone too; a third start finds nothing to add.
        let again = SpendLedger(store: database, journal: try SpendJournal(directory: directory))
        await again.flush()
        #expect(try await database.fetch(VirtualKey.self, id: "k1")?.limits.spend == 12.5)
        await again.close()
    }

    /// A row written again after it reached the store (a crash after the store's commit, before
    /// the segment was deleted) changes nothing.
    @Test func replayingRowsTheStoreAlreadyHasChargesNothing() async throws {
        let database = try SQLiteStore(path: temporaryDatabasePath())
        try await database.insert(VirtualKey(token: "k1", keyName: "sk-...k1", createdAt: 0))
        let directory = Self.directory()
        let first = SpendLedger(store: database, journal: try SpendJournal(directory: directory))
        for i in 0..<10 { try await first.commit(spendRow("r\(i)", key: "k1", team: nil, spend: 1)) }
        await first.flush()
        #expect(try await database.fetch(VirtualKey.self, id: "k1")?.limits.spend == 10)
        #expect(!Self.segments(in: directory).isEmpty, "the open segment stays until close")
        first.journal?.close(drained: false)  // a crash after the store's commit

        let restarted = SpendLedger(store: database, journal: try SpendJournal(directory: directory))
        await restarted.flush()
        #expect(try await database.spendLogs(SpendQuery()).count == 10)
        #expect(try await database.fetch(VirtualKey.self, id: "k1")?.limits.spend == 10)
    }

    /// A line torn by power loss (or a damaged file) is skipped and counted; the rows around it
    /// are kept.
    @Test func aTornLineIsSkippedAndTheRestIsKept() async throws {
        let database = try SQLiteStore(path: temporaryDatabasePath())
        let directory = Self.directory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var bytes = SpendJournal.line(for: spendRow("whole-1"))
        bytes.append(contentsOf: SpendJournal.line(for: spendRow("whole-2")))
        bytes.append(contentsOf: SpendJournal.line(for: spendRow("torn")).prefix(40))
        #expect(FileManager.default.createFile(atPath: SpendJournal.path(of: 7, in: directory), contents: Data(bytes)))

        let journal = try SpendJournal(directory: directory)
        #expect(journal.openSegment == 8, "a new segment starts after the ones found")
        #expect(journal.leftover().unreadableLines == 1)
        let ledger = SpendLedger(store: database, journal: journal)
        await ledger.flush()
        #expect(Set(try await database.spendLogs(SpendQuery()).map(\.requestID)) == ["whole-1", "whole-2"])
        #expect(!FileManager.default.fileExists(atPath: SpendJournal.path(of: 7, in: directory)))
    }

    /// Segments roll over at their size limit, and those whose rows are all in the store are
    /// deleted while the journal runs.
    @Test func fullSegmentsRollOverAndAreDeletedOnceWritten() async throws {
        let database = try SQLiteStore(path: temporaryDatabasePath())
        let directory = Self.directory()
        let journal = try SpendJournal(directory: directory, segmentBytes: 1024)
        let ledger = SpendLedger(store: database, journal: journal)
        for i in 0..<40 { try await ledger.commit(spendRow("r\(i)")) }
        await ledger.flush()
        #expect(journal.openSegment > 2, "40 rows of about 400 bytes span several 1 KiB segments")
        #expect(try await database.spendLogs(SpendQuery()).count == 40)
        #expect(
            Self.segments(in: directory) == [
                (SpendJournal.path(of: journal.openSegment, in: directory) as NSString).lastPathComponent
            ])
    }

    /// Two processes on one journal would delete each other's segments: the second is refused,
    /// and the journal opens again once the first has closed it.
    @Test func aSecondJournalOnTheSameDirectoryIsRefused() throws {
        let directory = Self.directory()
        let first = try SpendJournal(directory: directory)
        #expect(throws: SpendJournal.Failure.self) { try SpendJournal(directory: directory) }
        first.close(drained: true)
        let second = try SpendJournal(directory: directory)
        second.close(drained: true)
    }

    @Test func withIntervalSyncRowsStillReachTheStore() async throws {
        let database = try SQLiteStore(path: temporaryDatabasePath())
        let ledger = SpendLedger(store: database, journal: try SpendJournal(directory: Self.directory(), sync: .interval))
        for i in 0..<5 { try await ledger.commit(spendRow("r\(i)")) }
        await ledger.flush()
        #expect(try await database.spendLogs(SpendQuery()).count == 5)
    }
}
