import Foundation
import GatewayTesting
import Store
import Synchronization
import Telemetry
import Testing

@testable import Proxy

/// The Responses answers the gateway keeps: each caller sees only its own, they expire, and the
/// store never grows past its bounds.
@Suite struct ResponseStoreTests {
    static func response(_ id: String, owner: String = "key:a", bytes: Int = 10) -> StoredResponse {
        StoredResponse(
            id: id, owner: owner, response: ["id": .string(id)], history: [], deploymentID: "d", native: false,
            expiresAt: 0, bytes: bytes)
    }

    @Test func aCallerSeesOnlyItsOwnAndTheMasterKeySeesAll() async throws {
        let store = ResponseStore(clock: ManualClock(seconds: 1_000))
        store.put(Self.response("resp_1", owner: "key:a"))
        #expect(await store.get("resp_1", owner: "key:a")?.id == "resp_1")
        #expect(await store.get("resp_1", owner: "key:b") == nil)
        #expect(await store.get("resp_1", owner: "master")?.id == "resp_1")
        #expect(try await store.delete("resp_1", owner: "key:b") == false)
        #expect(try await store.delete("resp_1", owner: "key:a"))
        #expect(await store.get("resp_1", owner: "key:a") == nil)
    }

    @Test func answersExpireAfterTheirTTL() async {
        let clock = ManualClock(seconds: 1_000)
        var limits = ResponseStore.Limits()
        limits.ttlSeconds = 60
        let store = ResponseStore(limits: limits, clock: clock)
        store.put(Self.response("resp_1"))
        clock.advance(by: .seconds(59))
        #expect(await store.get("resp_1", owner: "key:a") != nil)
        clock.advance(by: .seconds(1))
        #expect(await store.get("resp_1", owner: "key:a") == nil)
        // Expired entries are dropped the next time anything is stored.
        store.put(Self.response("resp_2"))
        #expect(store.count == 1)
    }

    @Test func theOldestGoFirstPastTheCountOrByteBound() async {
        var limits = ResponseStore.Limits()
        limits.maxResponses = 3
        limits.maxBytes = 100
        let store = ResponseStore(limits: limits, clock: ManualClock(seconds: 0))
        for index in 1...5 { store.put(Self.response("resp_\(index)")) }
        #expect(store.count == 3)
        #expect(await store.get("resp_2", owner: "key:a") == nil)
        #expect(await store.get("resp_3", owner: "key:a") != nil)
        store.put(Self.response("big", bytes: 80))
        // 80 + 10 + 10 fits; 80 + 3 × 10 does not.
        #expect(await store.get("resp_3", owner: "key:a") == nil)
        #expect(await store.get("resp_5", owner: "key:a") != nil)
        #expect(await store.get("big", owner: "key:a") != nil)
    }

    /// With a store, a response outlives the memory that kept it: another replica (or the same
    /// gateway after a restart) reads it, for its owner only, until it expires.
    @Test func answersKeptInTheStoreAreReadByAnotherReplica() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("responses-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try SQLiteStore(path: path)
        let clock = ManualClock(seconds: 1_000)
        var limits = ResponseStore.Limits()
        limits.ttlSeconds = 60
        let first = ResponseStore(limits: limits, clock: clock, backing: StoreResponseArchive(store: database))
        var kept = Self.response("resp_1")
        kept.history = [.object(["role": "user", "content": "hi"])]
        kept.native = true
        first.put(kept)
        await first.flush()

        let second = ResponseStore(limits: limits, clock: clock, backing: StoreResponseArchive(store: database))
        #expect(await second.get("resp_1", owner: "key:b") == nil)
        let read = try #require(await second.get("resp_1", owner: "key:a"))
        #expect(read.history == kept.history && read.native && read.deploymentID == "d")
        #expect(read.response == ["id": "resp_1"])
        #expect(try await second.delete("resp_1", owner: "key:b") == false)
        #expect(try await second.delete("resp_1", owner: "key:a"))
        #expect(
            await ResponseStore(limits: limits, clock: clock, backing: StoreResponseArchive(store: database)).get(
                "resp_1", owner: "key:a") == nil)

        first.put(Self.response("resp_2"))
        await first.flush()
        clock.advance(by: .seconds(60))
        #expect(
            await ResponseStore(limits: limits, clock: clock, backing: StoreResponseArchive(store: database)).get(
                "resp_2", owner: "key:a") == nil)
    }

    /// Once in the store, the store decides: a response another replica deleted is gone here
    /// too, though this replica still held it in memory; one whose write is still pending is
    /// read from memory.
    @Test func aResponseDeletedOnAnotherReplicaIsGoneHereToo() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("responses-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try SQLiteStore(path: path)
        let clock = ManualClock(seconds: 1_000)
        let first = ResponseStore(clock: clock, backing: StoreResponseArchive(store: database))
        let second = ResponseStore(clock: clock, backing: StoreResponseArchive(store: database))
        first.put(Self.response("resp_1"))
        #expect(await first.get("resp_1", owner: "key:a") != nil, "kept, whether or not its write has landed")
        await first.flush()
        // The second replica reads it (and now holds it in memory), then the first deletes it.
        #expect(await second.get("resp_1", owner: "key:a") != nil)
        #expect(second.count == 1)
        #expect(try await first.delete("resp_1", owner: "key:a"))
        #expect(await second.get("resp_1", owner: "key:a") == nil)
        #expect(second.count == 0)
    }

    /// A delete that comes while the response's store write is still in flight waits for it, and
    /// then deletes the row: otherwise the write lands after the delete and brings it back.
    @Test func aDeleteWaitsForTheResponsesPendingWrite() async throws {
        let archive = HeldArchive()
        let clock = ManualClock(seconds: 1_000)
        let store = ResponseStore(clock: clock, backing: archive)
        store.put(Self.response("resp_1"))
        var saving = archive.saving.makeAsyncIterator()
        #expect(await saving.next() == "resp_1")
        let deleted = Task { try await store.delete("resp_1", owner: "key:a") }
        // Give the delete every chance to reach the archive before the write is let through: it
        // must not (under load it may simply not have run yet, which proves nothing but fails nothing).
        for _ in 0..<1_000 { await Task.yield() }
        #expect(archive.deletes == 0, "the delete reached the store before the write it must wait for")
        archive.letWritesThrough()
        #expect(try await deleted.value)
        #expect(archive.deletes == 1)
        await store.flush()
        #expect(archive.ids.isEmpty)
        #expect(await ResponseStore(clock: clock, backing: archive).get("resp_1", owner: "key:a") == nil)
    }

    /// What `input_items` lists comes back from the store as it was kept: another replica, or
    /// the gateway after a restart, lists the same items.
    @Test func theStoreKeepsAResponsesInputItemsAndWhatItContinued() throws {
        var response = Self.response("resp_2")
        response.input = [.object(["id": "msg_1", "type": "message", "role": "user", "content": .array([])])]
        response.previousID = "resp_1"
        response.history = [.object(["role": "user", "content": "hi"])]
        let body = String(decoding: StoreResponseArchive.encode(response), as: UTF8.self)
        let record = StoredResponseRecord(id: "resp_2", owner: "key:a", body: body, createdAt: 0, expiresAt: 50)
        let decoded = try #require(StoreResponseArchive.decode(record))
        #expect(decoded.input == response.input && decoded.previousID == "resp_1")
        #expect(decoded.history == response.history && decoded.response == response.response)
    }

    /// endpoints.md §1.1: listed input items always carry an id; a string input is one user
    /// message of one `input_text` part.
    @Test func inputItemsAreKeptAsOpenAIListsThem() {
        let string = ResponseInputItems.items(ofInput: "hello", responseID: "resp_abc")
        #expect(
            string == [
                .object([
                    "role": "user", "content": .array([.object(["type": "input_text", "text": "hello"])]), "type": "message",
                    "status": "completed", "id": "msg_abc_in0",
                ])
            ])
        let items = ResponseInputItems.items(
            ofInput: .array([
                .object(["role": "assistant", "content": "earlier"]),
                .object(["type": "function_call_output", "call_id": "call_1", "output": "18"]),
                .object(["type": "message", "id": "msg_given", "role": "user", "content": .array([])]),
            ]),
            responseID: "resp_abc")
        #expect(items.map { $0["id"]?.stringValue } == ["msg_abc_in0", "item_abc_in1", "msg_given"])
        #expect(items[0]["content"] == .array([.object(["type": "output_text", "text": "earlier"])]))
        #expect(items[1]["type"] == "function_call_output" && items[1]["status"] == nil)
    }
}

/// An archive in memory whose writes wait until the test lets them through; it tells when a
/// write has begun.
private final class HeldArchive: ResponseArchive {
    let saving: AsyncStream<String>
    private let began: AsyncStream<String>.Continuation
    private let writes = Gate()
    private let rows = Mutex([String: StoredResponse]())
    private let deleted = Atomic(0)

    init() { (saving, began) = AsyncStream.makeStream() }

    var ids: [String] { rows.withLock { Array($0.keys) } }
    /// The deletes the store was asked for.
    var deletes: Int { deleted.load(ordering: .relaxed) }

    func letWritesThrough() { writes.open() }

    func save(_ response: StoredResponse, now: Double) async throws {
        began.yield(response.id)
        await writes.wait()
        rows.withLock { $0[response.id] = response }
    }

    func load(id: String, now: Double) async throws -> StoredResponse? { rows.withLock { $0[id] } }

    func delete(id: String, owner: String?) async throws -> Bool {
        deleted.add(1, ordering: .relaxed)
        return rows.withLock { rows in
            guard let row = rows[id], owner == nil || row.owner == owner else { return false }
            rows[id] = nil
            return true
        }
    }

    func deleteExpired(now: Double) async throws -> Int { 0 }
}
