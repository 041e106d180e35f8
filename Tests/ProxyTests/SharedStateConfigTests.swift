import Testing

@testable import Proxy

/// Redis for shared state, configured as LiteLLM configures it: `router_settings` keys first, then
/// the `REDIS_*` variables; a URL wins over host and port.
@Suite struct SharedStateConfigTests {
    func load(_ router: String, environment: [String: String] = [:]) throws -> GatewayConfig {
        try ConfigLoader(environment: environment, knownProviders: ["openai"])
            .load(yaml: "model_list: []\nrouter_settings: \(router)\n")
    }

    @Test func hostPortAndPasswordMakeAURL() throws {
        let config = try load(
            "{redis_host: cache.internal, redis_port: 6380, redis_password: os.environ/RP}", environment: ["RP": "p@ss:w/rd"])
        #expect(config.sharedState == SharedStateSettings(url: "redis://:p%40ss%3Aw%2Frd@cache.internal:6380"))
        #expect(try load("{redis_host: cache.internal}").sharedState?.url == "redis://cache.internal:6379")
    }

    @Test func theURLWinsAndTheEnvironmentIsTheFallback() throws {
        #expect(
            try load("{redis_url: 'redis://a:1/2', redis_host: b}").sharedState?.url == "redis://a:1/2")
        #expect(try load("{}", environment: ["REDIS_URL": "redis://env:7"]).sharedState?.url == "redis://env:7")
        let fromParts = try load("{}", environment: ["REDIS_HOST": "h", "REDIS_PORT": "7000", "REDIS_PASSWORD": "pw"])
        #expect(fromParts.sharedState?.url == "redis://:pw@h:7000")
        // A host in the config is not overridden by a URL in the environment.
        #expect(
            try load("{redis_host: mine}", environment: ["REDIS_URL": "redis://env:7"]).sharedState?.url == "redis://mine:6379")
        #expect(try load("{}").sharedState == nil)
        #expect(try load("{redis_host: null}").sharedState == nil)
    }

    @Test func failureMode() throws {
        #expect(try load("{redis_host: h}").sharedState?.failureMode == .failOpen)
        #expect(try load("{redis_host: h, redis_failure_mode: fail-closed}").sharedState?.failureMode == .failClosed)
        let (_, issues) = ConfigLoader(environment: [:], knownProviders: [])
            .check(yaml: "model_list: []\nrouter_settings: {redis_host: h, redis_failure_mode: sometimes, redis_port: 99999}\n")
        #expect(issues.contains { $0.path == "router_settings.redis_port" && $0.severity == .error }, "\(issues)")
        let bad = ConfigLoader(environment: [:], knownProviders: [])
            .check(yaml: "model_list: []\nrouter_settings: {redis_host: h, redis_failure_mode: sometimes}\n").1
        #expect(
            bad.contains {
                $0.path == "router_settings.redis_failure_mode" && $0.message.contains("fail-open, fail-closed")
            }, "\(bad)")
    }

    @Test func leaseSeconds() throws {
        #expect(try load("{redis_host: h}").sharedState?.lease == .seconds(60))
        #expect(try load("{redis_host: h, redis_lease_seconds: 2.5}").sharedState?.lease == .milliseconds(2500))
        for bad in ["0", "0.5", "100000", "soon"] {
            let issues = ConfigLoader(environment: [:], knownProviders: [])
                .check(yaml: "model_list: []\nrouter_settings: {redis_host: h, redis_lease_seconds: \(bad)}\n").1
            #expect(issues.contains { $0.path == "router_settings.redis_lease_seconds" && $0.severity == .error }, "\(bad)")
        }
    }

    @Test func thePasswordIsInNoIssue() throws {
        let (_, issues) = ConfigLoader(environment: [:], knownProviders: [])
            .check(yaml: "model_list: []\nrouter_settings: {redis_host: h, redis_password: hunter2-secret, redis_port: x}\n")
        #expect(!issues.isEmpty)
        #expect(!issues.contains { $0.message.contains("hunter2") })
    }
}
