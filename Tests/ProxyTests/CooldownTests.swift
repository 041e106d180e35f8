import Testing

@testable import Proxy

@Suite struct CooldownTests {
    let serverError = GatewayError.upstream(clientStatus: 500, "boom")
    let rateLimited = GatewayError.upstream(clientStatus: 429, "slow down")

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
        #expect(cooldowns.recordFailure("b", error: GatewayError.upstream(clientStatus: 401, "x"), now: 0))
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
            #expect(error.status == 429 && error.code == "no_healthy_deployment")
            #expect(error.message.hasPrefix("No deployments available for selected model, Try again in 14 seconds."))
            #expect(error.headers["retry-after"] == "14", "a is back at 20")
        }
        #expect(try router.attempts(for: "g", now: 20)?.map(\.config.id) == ["a", "a", "a", "a"])
        #expect(try router.attempts(for: "nope", now: 0) == nil)
    }
}

@Suite struct FallbackTests {
    var fallbacks: Fallbacks {
        var f = Fallbacks()
        f.general = ["a": ["b", "c"]]
        f.contextWindow = ["a": ["big"]]
        f.contentPolicy = ["a": ["lenient"]]
        f.defaults = ["d"]
        return f
    }

    @Test func eachKindOfFailureHasItsOwnList() {
        let none = Fallbacks.Override()
        #expect(fallbacks.targets(after: "a", failure: .upstream(.overloaded), override: none) == ["b", "c"])
        #expect(fallbacks.targets(after: "a", failure: .upstream(.contextWindowExceeded), override: none) == ["big"])
        #expect(fallbacks.targets(after: "a", failure: .upstream(.contentPolicy), override: none) == ["lenient"])
        #expect(fallbacks.targets(after: "x", failure: .timeout, override: none) == ["d"], "default_fallbacks")
        #expect(fallbacks.targets(after: "x", failure: .upstream(.contextWindowExceeded), override: none).isEmpty)
        #expect(fallbacks.targets(after: "a", failure: .invalidRequest, override: none).isEmpty, "a bad request fails anywhere")
        #expect(fallbacks.targets(after: "a", failure: .timeout, override: .init(groups: ["z"])) == ["z"])
        #expect(fallbacks.targets(after: "a", failure: .timeout, override: .init(groups: ["z"], disabled: true)).isEmpty)
    }

    @Test func configNamesExistingGroupsOnly() throws {
        let loader = ProviderCatalogue.configLoader(environment: [:])
        let config = try loader.load(
            yaml: """
                router_settings:
                  fallbacks: [{a: [b]}]
                  context_window_fallbacks: [{a: [b]}]
                litellm_settings: {default_fallbacks: [b]}
                model_list:
                  - {model_name: a, litellm_params: {model: mock/x}}
                  - {model_name: b, litellm_params: {model: mock/y}}
                """)
        #expect(config.fallbacks.general == ["a": ["b"]] && config.fallbacks.contextWindow == ["a": ["b"]])
        #expect(config.fallbacks.defaults == ["b"] && config.warnings.isEmpty)
        let (_, issues) = loader.check(
            yaml: """
                router_settings: {fallbacks: [{a: [typo]}], model_group_alias: {old: gone}}
                model_list: [{model_name: a, litellm_params: {model: mock/x}}]
                """)
        #expect(
            issues.map(\.description) == [
                "error: fallbacks: 'typo' is not a model_name in model_list",
                "error: router_settings.model_group_alias.old: 'gone' is not a model_name in model_list",
            ])
    }
}

@Suite struct RetryPolicyTests {
    @Test func eachKindGetsItsOwnRetries() throws {
        let policy = RetryPolicy(retries: [.rateLimit: 4, .internalServer: 0, .badRequest: 1])
        #expect(policy.allowed(after: GatewayError.upstream(clientStatus: 429, ""), numRetries: 2) == 4)
        #expect(policy.allowed(after: GatewayError.upstream(clientStatus: 503, ""), numRetries: 2) == 0)
        #expect(policy.allowed(after: .invalidRequest("x"), numRetries: 2) == 1)
        #expect(policy.allowed(after: .timeout("slow"), numRetries: 2) == 2, "no entry: num_retries for retryable kinds")
        #expect(policy.allowed(after: .contentPolicyViolation("no"), numRetries: 2) == 0, "no entry: not retryable")
        #expect(policy.maxRetries(numRetries: 2) == 4)

        let config = try ProviderCatalogue.configLoader(environment: [:]).load(
            yaml: """
                router_settings: {retry_policy: {RateLimitErrorRetries: 3, TimeoutErrorRetries: 0}}
                model_list: [{model_name: a, litellm_params: {model: mock/x}}]
                """)
        #expect(config.retryPolicy == RetryPolicy(retries: [.rateLimit: 3, .timeout: 0]))
    }
}
