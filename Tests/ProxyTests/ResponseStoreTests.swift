import Foundation
import Store
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

    @Test func aCallerSeesOnlyItsOwnAndTheMasterKeySeesAll() async {
        let store = ResponseStore(clock: ManualClock(seconds: 1_000))
        store.put(Self.response("resp_1", owner: "key:a"))
        #expect(await store.get("resp_1", owner: "key:a")?.id == "resp_1")
        #expect(await store.get("resp_1", owner: "key:b") == nil)
        #expect(await store.get("resp_1", owner: "master")?.id == "resp_1")
        #expect(await store.delete("resp_1", owner: "key:b") == false)
        #expect(await store.delete("resp_1", owner: "key:a"))
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
        #expect(await second.delete("resp_1", owner: "key:b") == false)
        #expect(await second.delete("resp_1", owner: "key:a"))
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
}
