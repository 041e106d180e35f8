import Testing

@testable import Proxy

@Suite struct CooldownTests {
    let serverError = GatewayError(status: 500, type: "api_error", message: "boom")
    let rateLimited = GatewayError(status: 429, type: "rate_limit_exceeded", message: "slow down")

    @Test func failuresBeyondTheAllowanceWithinAMinuteCoolADeploymentDown() {
        let cooldowns = Cooldowns(settings: .init(allowedFails: 2, cooldownTime: 30))
        #expect(!cooldowns.recordFailure("a", error: serverError, now: 0))
        #expect(!cooldowns.recordFailure("a", error: serverError, now: 10))
        #expect(!cooldowns.isCooling("a", now: 11))
        #expect(cooldowns.recordFailure("a", error: serverError, now: 20))
        #expect(cooldowns.isCooling("a", now: 21) && cooldowns.isCooling("a", now: 49.9))
        #expect(cooldowns.secondsUntilAvailable(["a"], now: 40) == 10)
        #expect(!cooldowns.isCooling("a", now: 50), "back after cooldown_time")
        #expect(!cooldowns.isCooling("b", now: 21), "other deployments are not affected")
        #expect(cooldowns.cooldownCounts() == ["a": 1])

        // Failures more than a minute apart never add up.
        let sparse = Cooldowns(settings: .init(allowedFails: 1, cooldownTime: 30))
        for minute in 0..<5 { #expect(!sparse.recordFailure("a", error: serverError, now: Double(minute) * 61)) }
    }

    @Test func rateLimitsAndRefusedKeysCoolDownAtOnceButClientErrorsNever() {
        let cooldowns = Cooldowns(settings: .init(allowedFails: 5, cooldownTime: 10))
        #expect(cooldowns.recordFailure("a", error: rateLimited, now: 0))
        #expect(!cooldowns.recordFailure("a", error: rateLimited, now: 1), "already cooling: not counted twice")
        #expect(cooldowns.recordFailure("b", error: GatewayError(status: 401, type: "authentication_error", message: "x"), now: 0))
        for error in [GatewayError.contextWindowExceeded("too long"), .contentPolicyViolation("no"), .invalidRequest("bad")] {
            for second in 0..<10 { #expect(!cooldowns.recordFailure("c", error: error, now: Double(second))) }
        }
        #expect(!cooldowns.isCooling("c", now: 10))

        // A provider that says when to come back is believed.
        var told = rateLimited
        told.headers["retry-after"] = "2"
        #expect(cooldowns.recordFailure("d", error: told, now: 0))
        #expect(cooldowns.isCooling("d", now: 1.9) && !cooldowns.isCooling("d", now: 2))
    }

    @Test func theRouterSkipsCoolingDeploymentsAndSaysWhenAllAreDown() throws {
        func deployment(_ id: String) -> Deployment {
            Deployment(
                config: DeploymentConfig(modelName: "g", provider: "mock", model: "m", id: id),
                adapter: OpenAIAdapter(), transport: MockTransport(), price: nil)
        }
        let cooldowns = Cooldowns(settings: .init(allowedFails: 0, cooldownTime: 20))
        let router = ModelRouter(deployments: [deployment("a"), deployment("b")], numRetries: 3, cooldowns: cooldowns)
        #expect(Set(try #require(try router.attempts(for: "g", now: 0)).map(\.config.id)) == ["a", "b"])
        cooldowns.recordFailure("a", error: serverError, now: 0)
        #expect(try router.attempts(for: "g", now: 1)?.map(\.config.id) == ["b", "b", "b", "b"])
        cooldowns.recordFailure("b", error: serverError, now: 5)
        do throws(GatewayError) {
            _ = try router.attempts(for: "g", now: 6)
            Issue.record("a group with every deployment cooling down was routed")
        } catch {
            #expect(error.status == 503 && error.code == "no_healthy_deployment")
            #expect(error.headers["retry-after"] == "14", "a is back at 20")
        }
        #expect(try router.attempts(for: "g", now: 20)?.map(\.config.id) == ["a", "a", "a", "a"])
        #expect(try router.attempts(for: "nope", now: 0) == nil)
    }
}
