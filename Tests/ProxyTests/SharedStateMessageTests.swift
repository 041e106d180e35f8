import Store
import Testing

@testable import Proxy

/// What replicas send each other through Redis, read defensively: a message that is not one
/// record's change makes a replica drop its whole cache (never wrong, only slower).
struct SharedStateMessageTests {
    @Test func aRecordChangeRoundTrips() {
        let change = StoreChange.record(.team, id: "team with spaces")
        let message = SharedInvalidation.message(change)
        #expect(message == "team team with spaces")
        #expect(SharedInvalidation.parse(Array(message.utf8)) == change)
        #expect(SharedInvalidation.message(.all) == "*")
    }

    @Test func anythingElseDropsEverything() {
        for payload: [UInt8] in [
            Array("*".utf8), Array("key".utf8), Array("key ".utf8), Array("robot 42".utf8), [0xFF, 0x20, 0x41], [],
        ] {
            #expect(SharedInvalidation.parse(payload) == nil, "\(payload)")
        }
    }

    /// Budgets move in whole nano-dollars, and never past what a Lua number holds exactly (2^53).
    @Test func dollarsBecomeNanoDollars() {
        #expect(SharedBudgets.nanos(0.012) == 12_000_000)
        #expect(SharedBudgets.nanos(1e-10) == 1, "a cost is rounded up, never to nothing")
        #expect(SharedBudgets.nanos(-1) == 0)
        #expect(SharedBudgets.nanos(.nan) == 0)
        #expect(SharedBudgets.nanos(.infinity) == 0)
        #expect(SharedBudgets.nanos(1e12) == 9_000_000_000_000_000)
    }
}
