import Telemetry
import Testing

@testable import Proxy

/// The router's deployments are swapped whole while requests route: every decision sees one set
/// or the other, never a mix, and a plan already made keeps its deployments.
@Suite struct DeploymentSetTests {
    static func deployment(_ id: String, group: String, accessGroups: [String] = []) -> Deployment {
        var config = DeploymentConfig(modelName: group, provider: "mock", model: id, id: id)
        config.accessGroups = accessGroups
        return Deployment(config: config, adapter: OpenAIAdapter(), transport: MockTransport(), price: nil)
    }

    @Test func replacingTheSetChangesLaterDecisionsOnly() throws {
        let router = ModelRouter(deployments: [Self.deployment("old-1", group: "g")], numRetries: 1, seed: 1)
        let plan = try #require(try router.attempts(for: "g", now: 0))
        router.deploymentSet.replace(with: [
            Self.deployment("new-1", group: "g"), Self.deployment("h-1", group: "h", accessGroups: ["beta"]),
        ])
        #expect(plan.map(\.config.id) == ["old-1", "old-1"])
        #expect(try router.attempts(for: "g", now: 0)?.map(\.config.id) == ["new-1", "new-1"])
        #expect(router.group(named: "h") == "h")
        #expect(router.modelGroups == ["g", "h"])
        #expect(router.deploymentSet.snapshot.accessGroups == ["beta": ["h"]])
        router.deploymentSet.replace(with: [])
        #expect(try router.attempts(for: "g", now: 0) == nil)
        #expect(router.group(named: "g") == nil)
    }

    @Test func concurrentSwapsNeverMixTwoSets() async throws {
        let first = (0..<4).map { Self.deployment("a\($0)", group: "g") }
        let second = (0..<4).map { Self.deployment("b\($0)", group: "g") }
        let router = ModelRouter(deployments: first, numRetries: 3, seed: 9)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0..<2000 { router.deploymentSet.replace(with: round.isMultiple(of: 2) ? second : first) }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<2000 {
                        let ids = try #require(try router.attempts(for: "g", now: 0)).map(\.config.id)
                        let prefixes = Set(ids.map(\.first))
                        #expect(prefixes.count == 1, "a plan mixed two sets: \(ids)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
