// Routing overhead: nanoseconds per routing decision for a group of 100 deployments, per
// strategy, as medians of repeated runs, with a plain shuffle of the same 100 (the first
// router's whole decision) measured in the same run as the baseline.
// Run: swift run -c release router-benchmark
import Proxy
import Telemetry

let deployments = (0..<100).map { index in
    var config = DeploymentConfig(modelName: "g", provider: "mock", model: "m\(index)", id: "d\(index)", rpm: 100 + index)
    config.order = index < 90 ? 1 : 2
    return Deployment(
        config: config, adapter: OpenAIAdapter(), transport: MockTransport(),
        price: ModelPrice(inputCostPerToken: Double(index) * 1e-7, outputCostPerToken: 1e-6))
}
let decisions = 20_000
let runs = 7

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func nanosPerDecision(_ decide: () -> Int) -> Double {
    var samples: [Double] = []
    var sink = 0
    for _ in 0..<runs {
        let start = ContinuousClock.now
        for _ in 0..<decisions { sink &+= decide() }
        let elapsed = ContinuousClock.now - start
        samples.append(
            Double(elapsed.components.attoseconds) / 1e9 / Double(decisions) + Double(elapsed.components.seconds) * 1e9
                / Double(decisions))
    }
    precondition(sink != -1)
    return median(samples)
}

let baseline = nanosPerDecision { deployments.shuffled().count }
print("baseline (shuffle of 100): \(Int(baseline)) ns per decision")
for strategy in RoutingStrategy.allCases {
    let router = ModelRouter(deployments: deployments, numRetries: 2, strategy: strategy)
    let ns = nanosPerDecision { (try? router.attempts(for: "g", now: 0))??.count ?? 0 }
    print("\(strategy.rawValue): \(Int(ns)) ns per decision (\(String(format: "%.3f", ns / baseline))x baseline)")
}
