import Testing

@testable import Proxy

/// Usage-based routing across replicas: what a replica counted stays counted while its exchange
/// with Redis is under way, so a request routed in between does not take a filled deployment for
/// an unused one.
@Suite struct DeploymentLoadSharingTests {
    @Test func countsTakenForAnExchangeStayCountedUntilItsTotalsAreAdopted() {
        let load = DeploymentLoad(sharing: true)
        load.adoptShared(["d"], [DeploymentLoad.Usage(requests: 2, tokens: 20)], now: 0)
        load.started("d", now: 1)
        load.used("d", tokens: 7, now: 1)
        #expect(load.snapshot(["d"], now: 1).requests == [3])
        // The exchange takes the request and waits on Redis: the request is still counted.
        #expect(load.takeUnshared(["d"]) == [DeploymentLoad.Usage(requests: 1, tokens: 7)])
        #expect(load.snapshot(["d"], now: 1).requests == [3] && load.snapshot(["d"], now: 1).tokens == [27])
        // Redis's totals include it: counted once.
        load.adoptShared(["d"], [DeploymentLoad.Usage(requests: 3, tokens: 27)], now: 2)
        #expect(load.snapshot(["d"], now: 2).requests == [3] && load.snapshot(["d"], now: 2).tokens == [27])
    }

    @Test func aFailedExchangeDropsWhatItTookRatherThanCountItTwice() {
        let load = DeploymentLoad(sharing: true)
        load.adoptShared(["d"], [DeploymentLoad.Usage(requests: 2, tokens: 0)], now: 0)
        load.started("d", now: 1)
        _ = load.takeUnshared(["d"])
        load.dropSending(["d"])
        #expect(load.snapshot(["d"], now: 1).requests == [2])
    }
}
