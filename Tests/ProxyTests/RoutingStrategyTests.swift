import Telemetry
import Testing

@testable import Proxy

/// Every strategy with a fixed seed: the shares and orders it produces are the same on every run.
@Suite struct RoutingStrategyTests {
    static func deployment(
        _ id: String, weight: Double? = nil, rpm: Int? = nil, tpm: Int? = nil, order: Int? = nil, price: Double? = nil,
        tags: [String] = []
    ) -> Deployment {
        var config = DeploymentConfig(modelName: "g", provider: "mock", model: id, id: id, rpm: rpm, tpm: tpm)
        config.tags = tags
        config.weight = weight
        config.order = order
        return Deployment(
            config: config, adapter: OpenAIAdapter(), transport: MockTransport(),
            price: price.map { ModelPrice(inputCostPerToken: $0, outputCostPerToken: $0) })
    }

    /// How often each deployment is the first choice over `n` decisions.
    static func firstChoices(_ router: ModelRouter, _ n: Int = 4000) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<n { counts[try #require(try router.attempts(for: "g", now: 0)?.first?.config.id), default: 0] += 1 }
        return counts
    }

    @Test func simpleShuffleFollowsWeightsThenRPM() throws {
        let weighted = ModelRouter(
            deployments: [Self.deployment("a", weight: 1), Self.deployment("b", weight: 3)], numRetries: 1, seed: 7)
        let shares = try Self.firstChoices(weighted)
        #expect(abs(Double(shares["b"] ?? 0) / 4000 - 0.75) < 0.03, "\(shares)")
        let byRPM = ModelRouter(
            deployments: [Self.deployment("a", rpm: 100), Self.deployment("b", rpm: 900)], numRetries: 0, seed: 7)
        #expect(abs(Double(try Self.firstChoices(byRPM)["b"] ?? 0) / 4000 - 0.9) < 0.03)
        let plan = try #require(try weighted.attempts(for: "g", now: 0))
        #expect(Set(plan.map(\.config.id)) == ["a", "b"], "a retry goes to the other deployment")
    }

    @Test func theSameSeedGivesTheSameDecisions() throws {
        let deployments = (0..<5).map { Self.deployment("d\($0)") }
        let one = ModelRouter(deployments: deployments, numRetries: 4, seed: 42)
        let two = ModelRouter(deployments: deployments, numRetries: 4, seed: 42)
        for _ in 0..<50 {
            #expect(try one.attempts(for: "g", now: 0)?.map(\.config.id) == two.attempts(for: "g", now: 0)?.map(\.config.id))
        }
    }

    @Test func lowerOrdersComeFirstAndHigherOnesOnlyAfterThem() throws {
        let cooldowns = Cooldowns(settings: .init(allowedFails: 0, cooldownTime: 10))
        let router = ModelRouter(
            deployments: [Self.deployment("backup", order: 2), Self.deployment("p1", order: 1), Self.deployment("p2", order: 1)],
            numRetries: 2, cooldowns: cooldowns, seed: 1)
        for _ in 0..<100 {
            let plan = try #require(try router.attempts(for: "g", now: 0)).map(\.config.id)
            #expect(Set(plan.prefix(2)) == ["p1", "p2"] && plan.last == "backup")
        }
        cooldowns.recordFailure("p1", error: GatewayError.upstream(clientStatus: 500, ""), now: 0)
        cooldowns.recordFailure("p2", error: GatewayError.upstream(clientStatus: 500, ""), now: 0)
        #expect(try router.attempts(for: "g", now: 1)?.first?.config.id == "backup")
    }

    @Test func leastBusyLatencyAndCost() throws {
        let deployments = [Self.deployment("a", price: 3e-6), Self.deployment("b", price: 1e-6), Self.deployment("c")]
        let busy = ModelRouter(deployments: deployments, numRetries: 0, strategy: .leastBusy, seed: 3)
        busy.load.started("a")
        busy.load.started("b")
        busy.load.started("b")
        #expect(try Self.firstChoices(busy, 100) == ["c": 100])
        busy.load.started("c")
        busy.load.started("c")
        #expect(try Self.firstChoices(busy, 100) == ["a": 100])

        let fast = ModelRouter(deployments: deployments, numRetries: 0, strategy: .latencyBased, seed: 3)
        #expect(try Self.firstChoices(fast, 300).count == 3, "unmeasured deployments are tried first")
        for (id, seconds) in [("a", 0.9), ("b", 0.1), ("c", 0.5)] { fast.load.finished(id, latency: seconds) }
        let shares = try Self.firstChoices(fast, 2000)
        #expect(Double(shares["b"] ?? 0) / 2000 > 0.9, "\(shares)")
        #expect((shares["a"] ?? 0) > 0, "a small share explores the slow ones")

        let cheap = ModelRouter(deployments: deployments, numRetries: 2, strategy: .costBased, seed: 3)
        #expect(try cheap.attempts(for: "g", now: 0)?.map(\.config.id) == ["b", "a", "c"], "unknown prices last")
    }

    @Test func taggedRequestsGoToDeploymentsSharingATag() throws {
        let router = ModelRouter(
            deployments: [
                Self.deployment("eu", tags: ["eu", "gdpr"]), Self.deployment("us", tags: ["us"]),
                Self.deployment("any", tags: ["default"]),
            ],
            numRetries: 2, seed: 5)
        for _ in 0..<50 {
            #expect(try router.attempts(for: "g", now: 0, tags: ["gdpr"])?.map(\.config.id) == ["eu", "eu", "eu"])
            #expect(
                Set(try #require(try router.attempts(for: "g", now: 0, tags: ["us", "eu"])).map(\.config.id)) == ["eu", "us"])
            #expect(
                try router.attempts(for: "g", now: 0, tags: ["apac"])?.map(\.config.id) == ["any", "any", "any"],
                "default serves unknown tags")
        }
        #expect(
            Set(try #require(try router.attempts(for: "g", now: 0)).map(\.config.id)).count == 3, "untagged requests go anywhere")
        let strict = ModelRouter(deployments: [Self.deployment("eu", tags: ["eu"])], numRetries: 0, seed: 5)
        do throws(GatewayError) {
            _ = try strict.attempts(for: "g", now: 0, tags: ["us"])
            Issue.record("routed a request whose tags no deployment has")
        } catch {
            #expect(error.status == 400 && error.param == "tags")
        }
    }

    @Test func wildcardGroupsMatchTheMostSpecificPattern() throws {
        #expect(ModelRouter.capture("openai/gpt-4o", in: "openai/*") == "gpt-4o")
        #expect(ModelRouter.capture("openai/", in: "openai/*") == nil)
        #expect(ModelRouter.capture("gpt-4o", in: "*") == "gpt-4o")
        #expect(ModelRouter.capture("claude-3-haiku", in: "claude-*-haiku") == "3")
        func wildcard(_ name: String, _ model: String) -> Deployment {
            Deployment(
                config: DeploymentConfig(modelName: name, provider: "openai", model: model, id: name), adapter: OpenAIAdapter(),
                transport: MockTransport(), price: nil)
        }
        let book = try PriceBook(
            json: Array(
                #"{"gpt-4o":{"input_cost_per_token":2.5e-06,"output_cost_per_token":1e-05,"litellm_provider":"openai"}}"#.utf8))
        let router = ModelRouter(
            deployments: [wildcard("openai/*", "*"), wildcard("*", "fallback-*"), wildcard("exact", "m")], numRetries: 0,
            priceBook: book)
        #expect(router.group(named: "openai/gpt-4o") == "openai/*" && router.group(named: "exact") == "exact")
        #expect(router.group(named: "llama") == "*")
        let plan = try #require(try router.attempts(for: "openai/*", now: 0, requestedModel: "openai/gpt-4o"))
        #expect(plan.first?.config.model == "gpt-4o" && plan.first?.price?.inputCostPerToken == 2.5e-06)
        #expect(try router.attempts(for: "*", now: 0, requestedModel: "llama")?.first?.config.model == "fallback-llama")
    }

    @Test func usageBasedPrefersTheLeastUsedThisMinuteAndSkipsFullOnes() throws {
        let router = ModelRouter(
            deployments: [
                Self.deployment("a", tpm: 100), Self.deployment("b", tpm: 1000), Self.deployment("c"),
                Self.deployment("d", rpm: 1),
            ],
            numRetries: 3, strategy: .usageBased, seed: 9)
        router.load.used("a", tokens: 50, now: 10)
        router.load.used("b", tokens: 500, now: 10)
        router.load.used("c", tokens: 10, now: 10)
        router.load.used("d", tokens: 1, now: 10)
        router.load.started("d", now: 10)
        #expect(try router.attempts(for: "g", now: 20)?.map(\.config.id) == ["c", "a", "b", "d"], "d is at its rpm")
        router.load.used("a", tokens: 60, now: 30)
        let plan = try #require(try router.attempts(for: "g", now: 40)).map(\.config.id)
        #expect(plan.prefix(2) == ["c", "b"] && Set(plan.suffix(2)) == ["a", "d"], "a reached its tpm")
        let fresh = try #require(try router.attempts(for: "g", now: 61)).map(\.config.id)
        #expect(Set(fresh) == ["a", "b", "c", "d"], "a new minute starts from zero")
    }
}
