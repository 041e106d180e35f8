import Evaluations
import Telemetry
import Testing

/// The analytics report and the evaluation report state the same percentile definition; this
/// holds them to it over many inputs (the two modules may not depend on each other).
@Suite struct PercentileAgreementTests {
    @Test func telemetryAndEvaluationsAgree() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let values = (0..<Int.random(in: 1...40, using: &generator)).map { _ in Double.random(in: 0...5000, using: &generator)
            }
            for p in [0, 0.25, 0.5, 0.9, 0.95, 0.99, 1] {
                #expect(Percentile.of(values, p) == Statistics.percentile(values, p))
            }
        }
    }
}
