import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

@testable import Proxy

@Suite(.serialized, .timeLimit(.minutes(3))) struct LedgerEndToEndTests {
    @Test func everyAnsweredRequestHasItsRowBeforeTheAnswerArrives() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let plain = try await h.chat("gpt-4o-mini")
            // No waiting: the row was committed before the response was released.
            let id = try #require(plain.headers.first(name: "x-spanway-request-id"))
            var rows = try await h.store.spendLogs(SpendQuery())
            let row = try #require(rows.first { $0.requestID == id })
            let cost = try #require(plain.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            #expect(abs(row.spend - cost) < 1e-12)
            #expect(row.modelGroup == "gpt-4o-mini" && row.provider == "openai" && row.statusCode == 200)
            #expect(row.inputTokens == plain.json?["usage"]?["prompt_tokens"]?.intValue)
            // The master key is named, never hashed into telemetry (its unsalted digest could be guessed).
            #expect(row.keyHash == "master")
            #expect(row.traceID == plain.headers.first(name: "x-spanway-trace-id"))

            let streamed = try await h.chat("gpt-4o-mini", stream: true)
            #expect(ssePayloads(streamed.text).last == "[DONE]")
            let streamID = try #require(streamed.headers.first(name: "x-spanway-request-id"))
            rows = try await h.store.spendLogs(SpendQuery())
            let streamRow = try #require(rows.first { $0.requestID == streamID })
            #expect(streamRow.outputTokens > 0 && streamRow.spend > 0)

            let failed = try await h.chat("e500")
            let failedID = try #require(failed.headers.first(name: "x-spanway-request-id"))
            rows = try await h.store.spendLogs(SpendQuery())
            #expect(rows.first { $0.requestID == failedID }.map { $0.statusCode == 500 && $0.spend == 0 } == true)

            // Callers who could not authenticate cannot write rows.
            let before = try await h.store.spendLogs(SpendQuery(limit: 1000)).count
            #expect(try await h.send("/v1/chat/completions", json: "{}", key: "sk-intruder").status == 401)
            #expect(try await h.store.spendLogs(SpendQuery(limit: 1000)).count == before)
        }
    }

    @Test func concurrentRequestsEachGetExactlyOneRow() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for i in 0..<100 {
                    group.addTask { try await h.chat("local", stream: i % 2 == 0).headers.first(name: "x-spanway-request-id") }
                }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
            #expect(ids.count == 100)
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            #expect(Set(rows.map(\.requestID)) == Set(ids))
        }
    }

    /// Without a journal, spend is written after the answer is decided: a store that cannot take
    /// the row must not turn a served request into an error, and the loss must be logged with the
    /// request id.
    @Test func withoutAJournalAFailedLedgerWriteStillAnswersAndIsLogged() async throws {
        try await Self.withRefusingStore(journal: false) { h, refusing, logs in
            let replies = try await Self.plainAndStreamed(h)
            #expect(refusing.refusedWrites >= 1)
            #expect(try await h.store.spendLogs(SpendQuery()).isEmpty)
            let failures = logs.entries.filter { $0.level == .error && $0.message == "ledger write failed" }
            for reply in replies {
                let id = try #require(reply.headers.first(name: "x-spanway-request-id"))
                #expect(failures.contains { $0.metadata["request_id"] == id }, "\(logs.entries.map(\.message))")
            }
            // The log line names the loss, never the key.
            #expect(!failures.contains { $0.metadata.values.contains { $0.contains(Harness.master) } })
        }
    }

    /// With the journal, a store that cannot take rows loses none: the answers go out, the
    /// failure is logged, and the rows reach the store once it is back, each once.
    @Test func journaledRowsWaitForAFailingStoreAndLandOnceItIsBack() async throws {
        try await Self.withRefusingStore(journal: true) { h, store, logs in
            let replies = try await Self.plainAndStreamed(h)
            try await h.eventually("the ledger tried the store") { store.refusedWrites >= 1 }
            #expect(try await h.database.spendLogs(SpendQuery()).isEmpty)
            let failure = logs.entries.first {
                $0.level == .error && $0.message == "spend rows could not be written to the store"
            }
            #expect(failure?.metadata["kept_in_journal"] != nil && failure?.metadata["kept_in_journal"] != "0")
            #expect(!logs.entries.contains { $0.metadata.values.contains { $0.contains(Harness.master) } })

            store.recover()
            let ids = Set(replies.compactMap { $0.headers.first(name: "x-spanway-request-id") })
            try await h.eventually("the journaled rows reached the store") {
                Set(try await h.database.spendLogs(SpendQuery()).map(\.requestID)) == ids
            }
            #expect(ids.count == 2)
        }
    }

    /// A gateway whose store refuses spend writes (until `recover()`), with its warnings recorded.
    static func withRefusingStore(
        journal: Bool, _ body: (Harness, SpendRefusingStore, LogRecorder) async throws -> Void
    ) async throws {
        let logs = LogRecorder()
        var refusing: SpendRefusingStore?
        try await Harness.with(
            config: e2eConfig, otlp: false, logger: logs.logger(label: "gateway", level: .warning),
            wrapStore: { store in
                let wrapped = SpendRefusingStore(wrapping: store)
                refusing = wrapped
                return wrapped
            }, journal: journal
        ) { h in try await body(h, try #require(refusing), logs) }
    }

    static func plainAndStreamed(_ h: Harness) async throws -> [Harness.Reply] {
        let plain = try await h.chat("local")
        #expect(plain.status == 200 && plain.json?["choices"]?.arrayValue?.first?["message"] != nil)
        let streamed = try await h.chat("local", stream: true)
        #expect(streamed.status == 200 && ssePayloads(streamed.text).last == "[DONE]")
        return [plain, streamed]
    }
}
