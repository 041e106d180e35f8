import Telemetry
import Testing

@testable import Proxy

@Suite struct ConfigLoaderTests {
    let loader = ConfigLoader(
        environment: ["UPSTREAM_KEY": "sk-up", "RPM": "60", "LANGFUSE_PUBLIC_KEY": "pk-lf", "LANGFUSE_SECRET_KEY": "sk-lf"],
        knownProviders: ["openai", "mock"])

    @Test func readsLiteLLMConfig() throws {
        let config = try loader.load(
            yaml: """
                model_list:
                  - model_name: gpt-4o-mini
                    litellm_params:
                      model: openai/gpt-4o-mini
                      api_base: http://127.0.0.1:9999/v1
                      api_key: os.environ/UPSTREAM_KEY
                      api_version: "2024-10-21"
                      timeout: 2.5
                      rpm: os.environ/RPM
                      tpm: 100000
                      input_cost_per_token: 0.000001
                      output_cost_per_token: 2e-6
                    model_info:
                      id: primary
                  - model_name: gpt-4o-mini
                    litellm_params:
                      model: mock/gpt-4o-mini
                general_settings:
                  master_key: sk-master
                  max_request_size_mb: 1
                  disable_spend_logs: true
                  store_model_in_db: true
                litellm_settings:
                  callbacks: ["otel", "prometheus"]
                  success_callback: langfuse
                router_settings:
                  num_retries: 2
                """)
        #expect(config.deployments.count == 2)
        let first = config.deployments[0]
        #expect(first.modelName == "gpt-4o-mini" && first.provider == "openai" && first.model == "gpt-4o-mini")
        #expect(first.apiKey == "sk-up" && first.apiVersion == "2024-10-21" && first.id == "primary")
        #expect(first.timeout == .milliseconds(2500) && first.rpm == 60 && first.tpm == 100000)
        #expect(first.inputCostPerToken == 1e-6 && first.outputCostPerToken == 2e-6)
        #expect(config.deployments[1].id.count == 16)
        #expect(config.masterKey == "sk-master" && config.numRetries == 2)
        #expect(config.maxRequestBodyBytes == 1024 * 1024 && config.disableSpendLogs)
        #expect(config.callbacks == ["otel", "prometheus", "langfuse"])
        #expect(config.sinks.map(\.name) == ["langfuse"] && config.sinks.first?.route.outcome == .success)
        #expect(config.sinks.first?.destination.address == "https://cloud.langfuse.com")
        #expect(config.modelGroups == ["gpt-4o-mini"])
        #expect(config.warnings.isEmpty)
    }

    @Test func everyErrorIsReportedWithItsYAMLPath() {
        let (_, issues) = loader.check(
            yaml: """
                model_list:
                  - model_name: a
                    litellm_params: {model: openai/a}
                  - model_name: b
                    litellm_params: {model: nope/b}
                  - model_name: c
                    litellm_params:
                      model: openai/c
                      api_key: os.environ/MISSING_KEY
                      rpm: "ten"
                      timeout: soon
                      api_base: ftp://x
                  - litellm_params: {model: openai/d}
                  - model_name: e
                    litellm_params: {model: openai/e}
                    model_info: {id: dup}
                  - model_name: f
                    litellm_params: {model: openai/f}
                    model_info: {id: dup}
                router_settings:
                  num_retries: [1]
                """)
        let errors = issues.filter { $0.severity == .error }.map { "\($0.path): \($0.message)" }
        let expected = [
            "model_list[1].litellm_params.model: unknown provider 'nope' (known: mock, openai)",
            "model_list[2].litellm_params.api_base: not an http(s) URL",
            "model_list[2].litellm_params.api_key: environment variable MISSING_KEY is not set",
            "model_list[2].litellm_params.timeout: expected a number, found 'soon'",
            "model_list[2].litellm_params.rpm: expected an integer, found a string",
            "model_list[3].model_name: required",
            "model_list[5].model_info.id: duplicate deployment id 'dup'",
            "router_settings.num_retries: expected an integer, found a list",
        ]
        #expect(Set(errors) == Set(expected), "\(errors)")
    }

    /// Every strategy name LiteLLM's router accepts starts the gateway (its docs recommend
    /// `usage-based-routing-v2`); an unknown one is an error naming the key.
    @Test(arguments: [
        ("simple-shuffle", RoutingStrategy.simpleShuffle), ("least-busy", .leastBusy),
        ("latency-based-routing", .latencyBased), ("cost-based-routing", .costBased),
        ("usage-based-routing", .usageBased), ("usage-based-routing-v2", .usageBased),
    ])
    func routingStrategiesByLiteLLMsNames(_ name: String, _ strategy: RoutingStrategy) throws {
        let yaml =
            "model_list: [{model_name: x, litellm_params: {model: openai/gpt-4o}}]\nrouter_settings: {routing_strategy: \(name)}"
        #expect(try loader.load(yaml: yaml).routingStrategy == strategy)
    }

    /// `environment_variables` is applied before the rest, as LiteLLM sets them for its process:
    /// `os.environ/NAME` resolves from it, over the process's own value.
    @Test func environmentVariablesResolveReferences() throws {
        let yaml = """
            environment_variables:
              UPSTREAM_KEY: sk-from-config
              PROVIDER_BASE: https://llm.example.com/v1
            model_list:
              - model_name: x
                litellm_params: {model: openai/gpt-4o, api_key: os.environ/UPSTREAM_KEY, api_base: os.environ/PROVIDER_BASE}
            """
        let loader = ProviderCatalogue.configLoader(environment: ["UPSTREAM_KEY": "sk-from-process"])
        let config = try loader.load(yaml: yaml)
        #expect(config.deployments.first?.apiKey == "sk-from-config")
        #expect(config.deployments.first?.apiBase == "https://llm.example.com/v1")
        #expect(config.environmentVariables == ["UPSTREAM_KEY": "sk-from-config", "PROVIDER_BASE": "https://llm.example.com/v1"])
        #expect(!config.warnings.contains { $0.path.hasPrefix("environment_variables") })
        let (_, issues) = loader.check(yaml: "environment_variables: [a, b]\nmodel_list: []")
        #expect(issues.contains { $0.severity == .error && $0.path == "environment_variables" })
    }

    @Test func anUnknownRoutingStrategyIsAnError() {
        let yaml =
            "model_list: [{model_name: x, litellm_params: {model: openai/gpt-4o}}]\nrouter_settings: {routing_strategy: fastest}"
        #expect(throws: ConfigError.self) { try loader.load(yaml: yaml) }
    }

    /// `spanway_settings.ledger_fsync` takes `none` or `interval`; anything else is an error.
    @Test func ledgerFsyncIsReadAndChecked() throws {
        let base = "model_list: [{model_name: x, litellm_params: {model: openai/gpt-4o}}]\n"
        #expect(try loader.load(yaml: base).ledgerFsync == .none)
        #expect(try loader.load(yaml: base + "spanway_settings: {ledger_fsync: interval}").ledgerFsync == .interval)
        #expect(throws: ConfigError.self) { try loader.load(yaml: base + "spanway_settings: {ledger_fsync: always}") }
    }

    @Test func unknownKeysAreWarningsNotFailures() throws {
        let config = try loader.load(
            yaml: """
                model_list:
                  - model_name: a
                    litellm_params: {model: openai/a, weigth: 3}
                litellm_settings: {set_verbose: true}
                something_new: 1
                """)
        #expect(config.deployments.count == 1)
        #expect(
            Set(config.warnings.map(\.path)) == [
                "model_list[0].litellm_params.weigth", "litellm_settings.set_verbose", "something_new",
            ])
    }

    @Test func brokenYAMLAndWrongShapes() {
        #expect(throws: ConfigError.self) { try loader.load(yaml: "model_list: [") }
        let (_, issues) = loader.check(yaml: "model_list: {a: 1}")
        #expect(issues.contains { $0.path == "model_list" && $0.message == "expected a list, found a mapping" })
    }

    @Test func bareModelNameIsOpenAIWithAWarning() throws {
        let config = try loader.load(yaml: "model_list: [{model_name: x, litellm_params: {model: gpt-4o}}]")
        #expect(config.deployments.first?.provider == "openai" && config.deployments.first?.model == "gpt-4o")
        #expect(config.warnings.first?.path == "model_list[0].litellm_params.model")
    }

    @Test func stableIDsDependOnTheDeploymentNotItsPosition() throws {
        let a = try loader.load(
            yaml:
                "model_list: [{model_name: x, litellm_params: {model: openai/a}}, {model_name: x, litellm_params: {model: openai/b}}]"
        )
        let b = try loader.load(
            yaml:
                "model_list: [{model_name: x, litellm_params: {model: openai/b}}, {model_name: x, litellm_params: {model: openai/a}}]"
        )
        #expect(a.deployments[0].id == b.deployments[1].id && a.deployments[0].id != a.deployments[1].id)
    }

    @Test func issuesPrintWithSeverityAndPath() {
        #expect(
            ConfigIssue(.error, "model_list[2].litellm_params.api_key", "x").description
                == "error: model_list[2].litellm_params.api_key: x")
    }

    @Test func providerParamsAndDropParams() throws {
        let loader = ProviderCatalogue.configLoader(environment: ["AWS_SECRET": "aws-s3cret"])
        let config = try loader.load(
            yaml: """
                litellm_settings: {drop_params: true}
                model_list:
                  - model_name: claude
                    litellm_params:
                      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
                      aws_region_name: eu-west-1
                      aws_access_key_id: AKIDEXAMPLE
                      aws_secret_access_key: os.environ/AWS_SECRET
                  - model_name: strict
                    litellm_params: {model: openai/gpt-4o, drop_params: false}
                """)
        let bedrock = config.deployments[0]
        #expect(
            bedrock.providerParams == [
                "aws_region_name": "eu-west-1", "aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "aws-s3cret",
            ])
        #expect(bedrock.secrets == ["aws-s3cret"])
        #expect(!bedrock.description.contains("aws-s3cret"))
        #expect(bedrock.dropParams && !config.deployments[1].dropParams)
        #expect(config.warnings.isEmpty)
    }

    @Test func providersWithoutASharedEndpointNeedAnAPIBase() {
        let (_, issues) = ProviderCatalogue.configLoader(environment: [:]).check(
            yaml: """
                model_list: [{model_name: a, litellm_params: {model: azure/gpt-4o, api_key: k}}]
                """)
        #expect(issues.map(\.description) == ["error: model_list[0].litellm_params.api_base: required for azure/ deployments"])
    }

    @Test func namedCallbacksBecomeSinksWithLiteLLMsVariables() throws {
        let loader = ConfigLoader(
            environment: [
                "HELICONE_API_KEY": "sk-h", "SENTRY_DSN": "https://abc@o1.ingest.sentry.io/42",
                "GENERIC_LOGGER_ENDPOINT": "https://hooks.example/x", "GENERIC_LOGGER_HEADERS": "a=1,b=2",
            ], knownProviders: ["openai"])
        let config = try loader.load(
            yaml: """
                litellm_settings:
                  callbacks: ["generic_api", "datadog"]
                  success_callback: ["helicone", "generic_api"]
                  failure_callback: ["sentry"]
                """)
        let sinks = Dictionary(uniqueKeysWithValues: config.sinks.map { ($0.name, $0) })
        #expect(sinks["generic_api"]?.route.outcome == .any)
        guard case .webhook(_, let headers, _)? = sinks["generic_api"]?.destination else {
            Issue.record("generic_api is not a webhook")
            return
        }
        #expect(headers.map { "\($0.0)=\($0.1)" } == ["a=1", "b=2"])
        #expect(
            sinks["helicone"]?.route.outcome == .success
                && sinks["helicone"]?.destination.address == "https://api.worker.helicone.ai")
        #expect(sinks["sentry"]?.route.outcome == .failure)
        #expect(config.warnings.contains { $0.path == "litellm_settings.callbacks" && $0.message.contains("datadog") })
        #expect(sinks["sentry"]?.secrets.contains("https://abc@o1.ingest.sentry.io/42") == true)
    }

    @Test func aCallbackWithoutItsSettingsIsAnError() {
        let (_, issues) = ConfigLoader(environment: [:], knownProviders: []).check(
            yaml: """
                litellm_settings: {success_callback: ["langfuse_otel"], failure_callback: ["sentry"]}
                spanway_settings:
                  sinks:
                    - {type: generic_api, destination: "ftp://x"}
                    - {type: carrier_pigeon}
                    - {type: helicone, api_key: k, match: {status: sometimes}}
                """)
        let errors = issues.filter { $0.severity == .error }.map { "\($0.path): \($0.message)" }
        #expect(
            errors.contains(
                "litellm_settings.success_callback: callback 'langfuse_otel': public_key or LANGFUSE_PUBLIC_KEY is required"))
        #expect(errors.contains("litellm_settings.failure_callback: callback 'sentry': destination or SENTRY_DSN is required"))
        #expect(errors.contains("spanway_settings.sinks[0]: destination must be an http:// or https:// URL"))
        #expect(errors.contains { $0.hasPrefix("spanway_settings.sinks[1].type:") })
        #expect(errors.contains("spanway_settings.sinks[2].match.status: must be success, failure or any"))
    }

    @Test func explicitSinksTeamSettingsAndAlerts() throws {
        let loader = ConfigLoader(
            environment: ["HOOK_TOKEN": "t0k", "SLACK_WEBHOOK_URL": "https://hooks.slack.example/T1"], knownProviders: [])
        let config = try loader.load(
            yaml: """
                general_settings: {alerting: ["slack"], alert_types: ["budget_alerts", "llm_too_slow"]}
                litellm_settings:
                  default_team_settings:
                    - team_id: research
                      success_callback: ["langfuse"]
                      langfuse_public_key: pk-team
                      langfuse_secret_key: sk-team
                      langfuse_host: https://lf.example
                      default_sinks: false
                      capture_content: true
                spanway_settings:
                  capture_content: false
                  redact_emails: true
                  sinks:
                    - name: billing
                      type: generic_api
                      destination: https://billing.example/spend
                      format: ndjson
                      headers: {X-Token: os.environ/HOOK_TOKEN}
                      events: [llm_api_success]
                      match: {model_group: [gpt-4o], key_alias: [prod]}
                    - name: ops-otlp
                      type: otel
                      destination: http://collector:4318
                      match: {team: [ops]}
                      capture_content: false
                """)
        let sinks = Dictionary(uniqueKeysWithValues: config.sinks.map { ($0.name, $0) })
        let team = try #require(sinks["team/research/langfuse"])
        guard case .langfuse(let credentials) = team.destination else {
            Issue.record("the team callback is not Langfuse's batch API")
            return
        }
        #expect(team.route == .team("research", outcome: .success) && credentials.host == "https://lf.example")
        #expect(credentials.publicKey == "pk-team" && credentials.secretKey == "sk-team")
        #expect(config.teamTraceSettings["research"]?.defaultSinks == false)
        #expect(config.teamTraceSettings["research"]?.captureContent == true)
        let billing = try #require(sinks["billing"])
        guard case .webhook(_, let billingHeaders, let format) = billing.destination else {
            Issue.record("billing is not a webhook")
            return
        }
        #expect(format == .ndjson && billingHeaders.first?.0 == "x-token" && billingHeaders.first?.1 == "t0k")
        #expect(billing.route == SinkRoute(keyAliases: ["prod"], modelGroups: ["gpt-4o"], outcome: .success, isDefault: true))
        let ops = try #require(sinks["ops-otlp"])
        #expect(ops.route.teams == ["ops"] && !ops.route.isDefault && !ops.captureContent)
        #expect(!config.captureContent && config.redactEmails)
        #expect(config.alerts == AlertSettings(webhookURL: "https://hooks.slack.example/T1", kinds: [.budget]))
    }
}

/// `spanway_settings.allowed_egress` and the numbers a config may not make trap (issue 11).
@Suite struct ConfigLoaderHardeningTests {
    let loader = ConfigLoader(environment: [:], knownProviders: ["openai"])

    @Test func readsAllowedEgress() throws {
        let config = try loader.load(
            yaml: """
                spanway_settings:
                  allowed_egress: ["10.0.0.0/8", "127.0.0.1", "fd00::/8", "langfuse.internal", "*.corp.example"]
                model_list: [{model_name: x, litellm_params: {model: openai/x}}]
                """)
        #expect(config.allowedEgress.count == 5)
        #expect(
            config.allowedEgress.map(\.description).filter { !$0.contains(":") }
                == ["10.0.0.0/8", "127.0.0.1/32", "langfuse.internal", "*.corp.example"])
        let policy = EgressPolicy(allowed: config.allowedEgress)
        #expect(policy.allows(address: IPAddress("10.9.8.7")!) && policy.allows(address: IPAddress("fd00:ec2::254")!))
        #expect(!policy.allows(address: IPAddress("127.0.0.2")!))
        #expect(try loader.load(yaml: "model_list: [{model_name: x, litellm_params: {model: openai/x}}]").allowedEgress.isEmpty)
    }

    @Test func badAllowedEgressEntriesAreNamedByPath() {
        let (_, issues) = loader.check(
            yaml: """
                spanway_settings:
                  allowed_egress: ["10.0.0.0/8", "10.0.0.0/99", "http://x/", {a: 1}, "bad host"]
                model_list: [{model_name: x, litellm_params: {model: openai/x}}]
                """)
        let errors = Set(issues.filter { $0.severity == .error }.map(\.path))
        #expect(
            errors == [
                "spanway_settings.allowed_egress[1]", "spanway_settings.allowed_egress[2]", "spanway_settings.allowed_egress[3]",
                "spanway_settings.allowed_egress[4]",
            ], "\(issues)")
        let (_, notAList) = loader.check(yaml: "spanway_settings: {allowed_egress: 10.0.0.0/8}\nmodel_list: []")
        #expect(notAList.contains { $0.path == "spanway_settings.allowed_egress" && $0.severity == .error })
    }

    @Test func hugeDurationsAndSizesAreErrorsNotTraps() {
        let (_, issues) = loader.check(
            yaml: """
                general_settings: {max_request_size_mb: 1e300}
                router_settings: {cooldown_time: 1e300}
                model_list:
                  - model_name: x
                    litellm_params: {model: openai/x, timeout: 1e300, stream_timeout: 99999999999999999999}
                """)
        let errors = Set(issues.filter { $0.severity == .error }.map(\.path))
        #expect(
            errors == [
                "general_settings.max_request_size_mb", "router_settings.cooldown_time", "model_list[0].litellm_params.timeout",
                "model_list[0].litellm_params.stream_timeout",
            ], "\(issues)")
        let (_, nan) = loader.check(
            yaml:
                "router_settings: {cooldown_time: .nan}\nmodel_list: [{model_name: x, litellm_params: {model: openai/x, timeout: .inf}}]"
        )
        #expect(
            Set(nan.filter { $0.severity == .error }.map(\.path)) == [
                "router_settings.cooldown_time", "model_list[0].litellm_params.timeout",
            ])
    }
}
