import Testing

@testable import Telemetry

/// Values checked by hand against the definition (h = (n − 1)·p), the same as numpy's
/// `percentile` with its default linear method.
@Suite struct PercentileTests {
    @Test func interpolatesBetweenClosestRanks() {
        #expect(abs((Percentile.of([1, 2, 3, 4], 0.95) ?? 0) - 3.85) < 1e-12)
        #expect(Percentile.of([4, 1, 3, 2], 0.5) == 2.5)
        #expect(Percentile.of([100, 200, 300, 400, 1000], 0.99) == 976)
        #expect(Percentile.of([7], 0.99) == 7)
        #expect(Percentile.of([1, 2, 3], 0) == 1 && Percentile.of([1, 2, 3], 1) == 3)
    }

    @Test func ignoresValuesThatAreNotFiniteAndRefusesNonsense() {
        #expect(Percentile.of([.nan, 10, .infinity, 20], 0.5) == 15)
        #expect(Percentile.of([], 0.5) == nil && Percentile.of([.nan], 0.5) == nil)
        #expect(Percentile.of([1, 2], 1.5) == nil && Percentile.of([1, 2], -0.1) == nil)
    }
}
