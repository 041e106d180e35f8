import Telemetry
import Testing

@testable import Proxy

/// LiteLLM's router settings as the config loader reads them, its tag rules, and the order in
/// which an attempt's timeout is chosen.
@Suite struct RouterBehaviourConfigTests {
    let loader = ConfigLoader(environment: ["TEAM": "blue"], knownProviders: ["openai", "mock"])

    @Test func routerSettingsAreReadNotWarnedAbout() throws {
        let config = try loader.load(
            yaml: """
                litellm_settings: {num_retries: 4, request_timeout: 30}
                router_settings:
                  timeout: 45
                  stream_timeout: 5.5
                  enable_tag_filtering: true
                  tag_filtering_match_any: false
                  retry_after: 0.5
                model_list:
                  - model_name: g
                    litellm_params:
                      model: openai/gpt-4o-mini
                      temperature: 0.2
                      max_tokens: 256
                      stop: [END, "###"]
                      response_format: {type: json_object}
                      user: "42"
                      extra_headers: {x-team: os.environ/TEAM}
                      max_parallel_requests: 10
                """)
        #expect(config.numRetries == 4, "litellm_settings.num_retries applies when router_settings has none")
        let behaviour = config.routerBehaviour
        #expect(behaviour.requestTimeout == .seconds(30) && behaviour.timeout == .seconds(45))
        #expect(behaviour.streamTimeout == .milliseconds(5500) && behaviour.retryAfter == .milliseconds(500))
        #expect(behaviour.enableTagFiltering && !behaviour.tagFilteringMatchAny)
        let defaults = try #require(config.deployments.first).defaultParams
        #expect(defaults["temperature"]?.doubleValue == 0.2 && defaults["max_tokens"] == .int(256))
        #expect(defaults["stop"] == .array(["END", "###"]) && defaults["user"] == .string("42"))
        #expect(defaults["response_format"] == .object(["type": "json_object"]))
        #expect(defaults["extra_headers"] == .object(["x-team": "blue"]))
        #expect(defaults["max_parallel_requests"] == nil, "LiteLLM's own keys are not sent to providers")
        #expect(defaults["model"] == nil)
        let warned = config.warnings.map(\.path)
        #expect(warned == ["model_list[0].litellm_params.max_parallel_requests"], "\(warned)")
    }

    @Test func numRetriesDefaultsLikeLiteLLM() throws {
        let yaml = "model_list: [{model_name: g, litellm_params: {model: mock/m}}]\n"
        #expect(try loader.load(yaml: yaml).numRetries == 2)
        #expect(
            try loader.load(yaml: yaml + "router_settings: {num_retries: 0}\nlitellm_settings: {num_retries: 5}").numRetries == 0)
        #expect(throws: ConfigError.self) { try loader.load(yaml: yaml + "litellm_settings: {num_retries: -1}") }
    }

    static func deployment(_ id: String, tags: [String]) -> Deployment {
        var config = DeploymentConfig(modelName: "g", provider: "mock", model: id, id: id)
        config.tags = tags
        return Deployment(config: config, adapter: OpenAIAdapter(), transport: MockTransport(), price: nil)
    }

    @Test func tagFilteringCanRequireEveryTag() throws {
        let router = ModelRouter(
            deployments: [Self.deployment("both", tags: ["eu", "gdpr"]), Self.deployment("eu", tags: ["eu"])], numRetries: 0,
            seed: 3)
        for _ in 0..<20 {
            let all = try router.attempts(for: "g", now: 0, tags: ["eu", "gdpr"], matchAnyTag: false)
            #expect(all?.map(\.config.id) == ["both"])
        }
        #expect(throws: GatewayError.self) { try router.attempts(for: "g", now: 0, tags: ["gdpr", "us"], matchAnyTag: false) }
        let plan = try router.attempts(for: "g", now: 0, numRetries: 3)
        #expect(plan?.count == 4, "a request's num_retries sets the plan's length")
    }

    @Test func theFirstTimeoutSetWinsInLiteLLMsOrder() {
        var router = RouterBehaviour()
        var deployment = DeploymentConfig(modelName: "g", provider: "mock", model: "m", id: "d")
        let none = RequestTimeouts()
        #expect(none.choice(stream: false, deployment: deployment, router: router).duration == .seconds(6000))
        router.timeout = .seconds(60)
        #expect(none.choice(stream: false, deployment: deployment, router: router).duration == .seconds(60))
        router.requestTimeout = .seconds(50)
        #expect(none.choice(stream: false, deployment: deployment, router: router).duration == .seconds(50))
        deployment.timeout = .seconds(40)
        #expect(
            none.choice(stream: false, deployment: deployment, router: router)
                == .init(duration: .seconds(40), clientChosen: false))
        #expect(
            none.choice(stream: true, deployment: deployment, router: router).duration == .seconds(40), "no stream timeout set")
        router.streamTimeout = .seconds(9)
        #expect(none.choice(stream: true, deployment: deployment, router: router).duration == .seconds(9))
        deployment.streamTimeout = .seconds(8)
        #expect(none.choice(stream: true, deployment: deployment, router: router).duration == .seconds(8))
        let client = RequestTimeouts(requestTimeout: .seconds(30))
        #expect(
            client.choice(stream: false, deployment: deployment, router: router)
                == .init(duration: .seconds(30), clientChosen: true))
        let both = RequestTimeouts(timeout: .seconds(20), requestTimeout: .seconds(30), streamTimeout: .seconds(7))
        #expect(both.choice(stream: false, deployment: deployment, router: router).duration == .seconds(20))
        #expect(
            both.choice(stream: true, deployment: deployment, router: router) == .init(duration: .seconds(7), clientChosen: true))
        #expect(RequestTimeouts.seconds(.seconds(6000)) == "6000.0" && RequestTimeouts.seconds(.milliseconds(250)) == "0.25")
    }
}
