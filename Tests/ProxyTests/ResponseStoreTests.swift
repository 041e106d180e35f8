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

    @Test func aCallerSeesOnlyItsOwnAndTheMasterKeySeesAll() {
        let store = ResponseStore(clock: ManualClock(seconds: 1_000))
        store.put(Self.response("resp_1", owner: "key:a"))
        #expect(store.get("resp_1", owner: "key:a")?.id == "resp_1")
        #expect(store.get("resp_1", owner: "key:b") == nil)
        #expect(store.get("resp_1", owner: "master")?.id == "resp_1")
        #expect(!store.delete("resp_1", owner: "key:b"))
        #expect(store.delete("resp_1", owner: "key:a"))
        #expect(store.get("resp_1", owner: "key:a") == nil)
    }

    @Test func answersExpireAfterTheirTTL() {
        let clock = ManualClock(seconds: 1_000)
        var limits = ResponseStore.Limits()
        limits.ttlSeconds = 60
        let store = ResponseStore(limits: limits, clock: clock)
        store.put(Self.response("resp_1"))
        clock.advance(by: .seconds(59))
        #expect(store.get("resp_1", owner: "key:a") != nil)
        clock.advance(by: .seconds(1))
        #expect(store.get("resp_1", owner: "key:a") == nil)
        // Expired entries are dropped the next time anything is stored.
        store.put(Self.response("resp_2"))
        #expect(store.count == 1)
    }

    @Test func theOldestGoFirstPastTheCountOrByteBound() {
        var limits = ResponseStore.Limits()
        limits.maxResponses = 3
        limits.maxBytes = 100
        let store = ResponseStore(limits: limits, clock: ManualClock(seconds: 0))
        for index in 1...5 { store.put(Self.response("resp_\(index)")) }
        #expect(store.count == 3)
        #expect(store.get("resp_2", owner: "key:a") == nil)
        #expect(store.get("resp_3", owner: "key:a") != nil)
        store.put(Self.response("big", bytes: 80))
        // 80 + 10 + 10 fits; 80 + 3 × 10 does not.
        #expect(store.get("resp_3", owner: "key:a") == nil)
        #expect(store.get("resp_5", owner: "key:a") != nil)
        #expect(store.get("big", owner: "key:a") != nil)
    }
}
