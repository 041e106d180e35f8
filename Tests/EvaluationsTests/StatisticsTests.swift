import Evaluations
import Testing

@Suite struct StatisticsTests {
    func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance
    }

    // MARK: percentile (R-7: h = (n − 1)p, interpolate between the neighbours of h)

    @Test func percentileMatchesNumpysDefault() {
        // numpy.percentile([1, 2, 3, 4], 95) == 3.85: h = 3 · 0.95 = 2.85 → 3 + 0.85 · (4 − 3).
        #expect(close(Statistics.percentile([1, 2, 3, 4], 0.95), 3.85))
        #expect(close(Statistics.percentile([4, 1, 3, 2], 0.95), 3.85))
        #expect(close(Statistics.percentile([1, 2, 3, 4], 0.5), 2.5))
        // h = 4 · 0.4 = 1.6 → 20 + 0.6 · (35 − 20) = 29 (numpy gives 29.0).
        #expect(close(Statistics.percentile([15, 20, 35, 40, 50], 0.4), 29))
        #expect(close(Statistics.percentile([10, 20, 30], 0.5), 20))
    }

    @Test func percentileEnds() {
        #expect(Statistics.percentile([3, 1, 2], 0) == 1)
        #expect(Statistics.percentile([3, 1, 2], 1) == 3)
        #expect(Statistics.percentile([7], 0.95) == 7)
        #expect(Statistics.percentile([], 0.5) == nil)
        #expect(Statistics.percentile([1, 2], -0.01) == nil)
        #expect(Statistics.percentile([1, 2], 1.01) == nil)
        #expect(Statistics.percentile([1, 2], .nan) == nil)
    }

    @Test func nonFiniteValuesAreIgnored() {
        #expect(close(Statistics.percentile([1, .nan, 3, .infinity], 0.5), 2))
        #expect(Statistics.percentile([.nan], 0.5) == nil)
        #expect(close(Statistics.mean([1, .nan, 2]), 1.5))
    }

    @Test func mean() {
        #expect(Statistics.mean([]) == nil)
        #expect(close(Statistics.mean([1, 2, 3, 4]), 2.5))
        #expect(close(Statistics.mean([0.1, 0.2, 0.3]), 0.2, 1e-15))
    }

    // MARK: Student's t interval

    @Test func tCriticalValuesFromTheTable() {
        #expect(Statistics.tCritical95(degreesOfFreedom: 0) == nil)
        #expect(Statistics.tCritical95(degreesOfFreedom: 1) == 12.706205)
        #expect(Statistics.tCritical95(degreesOfFreedom: 4) == 2.776445)
        #expect(Statistics.tCritical95(degreesOfFreedom: 10) == 2.228139)
        #expect(Statistics.tCritical95(degreesOfFreedom: 30) == 2.042272)
        #expect(Statistics.tCritical95(degreesOfFreedom: 40) == 2.021075)
        #expect(Statistics.tCritical95(degreesOfFreedom: 60) == 2.000298)
        #expect(Statistics.tCritical95(degreesOfFreedom: 120) == 1.979930)
    }

    @Test func tBetweenTableRowsIsInterpolatedInOneOverDF() {
        let t35 = 2.042272 + (2.021075 - 2.042272) * (1.0 / 30 - 1.0 / 35) / (1.0 / 30 - 1.0 / 40)
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 35), t35))
        // True quantiles (scipy.stats.t.ppf(0.975, df)): the interpolation stays within 1e-4.
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 35), 2.030108, 1e-4))
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 50), 2.008559, 1e-4))
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 90), 1.986675, 1e-4))
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 200), 1.971896, 1e-4))
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 1000), 1.962339, 1e-4))
        #expect(close(Statistics.tCritical95(degreesOfFreedom: 10_000_000), 1.959964, 1e-6))
    }

    @Test func tFallsMonotonicallyTowardTheNormalQuantile() {
        var previous = Double.infinity
        for df in 1...2_000 {
            guard let t = Statistics.tCritical95(degreesOfFreedom: df) else {
                Issue.record("no t for df \(df)")
                return
            }
            #expect(t < previous, "df \(df)")
            #expect(t > 1.959964)
            previous = t
        }
    }

    @Test func confidenceIntervalUsesStudentsT() throws {
        // n = 5, mean 0.6, s² = (2 · 0.6² + 3 · 0.4²) / 4 = 0.3, half-width t(4) · √(0.3 / 5).
        let interval = try #require(Statistics.meanConfidenceInterval95([0, 1, 1, 1, 0]))
        let half = 2.776445 * (0.3 / 5).squareRoot()
        #expect(close(interval.mean, 0.6))
        #expect(close(interval.low, 0.6 - half))
        #expect(close(interval.high, 0.6 + half))
        // Not clamped to [0, 1]: that is the caller's choice.
        #expect(interval.low < 0)
        #expect(interval.high > 1)
    }

    @Test func confidenceIntervalOfTwoValues() throws {
        // n = 2: mean 2, s = √2, half-width 12.706205 · √2 / √2.
        let interval = try #require(Statistics.meanConfidenceInterval95([1, 3]))
        #expect(close(interval.low, 2 - 12.706205))
        #expect(close(interval.high, 2 + 12.706205))
    }

    @Test func confidenceIntervalEdgeCases() throws {
        #expect(Statistics.meanConfidenceInterval95([]) == nil)
        #expect(Statistics.meanConfidenceInterval95([0.5]) == nil)
        #expect(Statistics.meanConfidenceInterval95([0.5, .nan]) == nil)
        let constant = try #require(Statistics.meanConfidenceInterval95([0.25, 0.25, 0.25]))
        #expect(constant.mean == 0.25 && constant.low == 0.25 && constant.high == 0.25)
    }
}
