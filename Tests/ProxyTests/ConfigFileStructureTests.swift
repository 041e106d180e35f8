import Foundation
import Testing

@testable import Proxy

/// LiteLLM's config file structure: `include:`, `credential_list`, unset variables under
/// `--allow-missing-env`, every problem of a deployment, and the LiteLLM settings Spanway refuses
/// or ignores.
@Suite struct ConfigFileStructureTests {
    let loader = ConfigLoader(
        environment: ["KEY_A": "sk-a-0123456789"], knownProviders: ["openai", "azure", "mock"],
        providersNeedingAPIBase: ["azure"])

    /// A fresh directory with `files` (name → YAML) written into it.
    func directory(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-include-\(UUID().uuidString)")
        for (name, text) in files {
            let file = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        return root
    }

    func errors(_ issues: [ConfigIssue]) -> [String] {
        issues.filter { $0.severity == .error }.map { "\($0.path): \($0.message)" }
    }

    // MARK: include

    /// Lists are concatenated base first; any other value replaces the base's whole (no deep merge);
    /// a nested include resolves next to the file that declares it.
    @Test func includesMergePerTopLevelKey() throws {
        let root = try directory([
            "config.yaml": """
            include: [models.yaml, settings/router.yaml]
            model_list:
              - {model_name: base, litellm_params: {model: mock/a}}
            router_settings: {num_retries: 1, cooldown_time: 7}
            general_settings: {master_key: sk-base-master-key}
            """,
            "models.yaml": """
            model_list:
              - {model_name: included, litellm_params: {model: mock/b}}
            """,
            "settings/router.yaml": """
            include: [more.yaml]
            router_settings: {num_retries: 4}
            """,
            "settings/more.yaml": """
            model_list:
              - {model_name: nested, litellm_params: {model: mock/c}}
            """,
        ])
        let (config, issues) = loader.check(contentsOfFile: root.appendingPathComponent("config.yaml").path)
        #expect(errors(issues).isEmpty, "\(issues)")
        #expect(config?.deployments.map(\.modelName) == ["base", "included", "nested"])
        #expect(config?.numRetries == 4)
        // router_settings was replaced whole: the base's cooldown_time is gone (default 5 s).
        #expect(config?.cooldowns.cooldownTime != 7)
        #expect(config?.masterKey == "sk-base-master-key")
    }

    /// Files reached twice (a cycle, or two routes to one file) are read once.
    @Test func aFileAlreadyLoadedIsSkipped() throws {
        let root = try directory([
            "config.yaml": "include: [a.yaml, b.yaml]\nmodel_list: []",
            "a.yaml": "include: [b.yaml, config.yaml]\nmodel_list: [{model_name: a, litellm_params: {model: mock/a}}]",
            "b.yaml": "include: [a.yaml]\nmodel_list: [{model_name: b, litellm_params: {model: mock/b}}]",
        ])
        let (config, issues) = loader.check(contentsOfFile: root.appendingPathComponent("config.yaml").path)
        #expect(errors(issues).isEmpty, "\(issues)")
        #expect(config?.deployments.map(\.modelName) == ["a", "b"])
    }

    /// A path missing next to the declaring file is taken from the root config's directory, with a warning.
    @Test func anIncludeFallsBackToTheRootDirectoryWithAWarning() throws {
        let root = try directory([
            "config.yaml": "include: [sub/child.yaml]",
            "sub/child.yaml": "include: [shared.yaml]",
            "shared.yaml": "model_list: [{model_name: shared, litellm_params: {model: mock/s}}]",
        ])
        let (config, issues) = loader.check(contentsOfFile: root.appendingPathComponent("config.yaml").path)
        #expect(errors(issues).isEmpty, "\(issues)")
        #expect(config?.deployments.map(\.modelName) == ["shared"])
        #expect(issues.contains { $0.severity == .warning && $0.path == "include" && $0.message.contains("shared.yaml") })
    }

    @Test func aMissingIncludeAndANonListAreErrors() throws {
        let root = try directory(["config.yaml": "include: [nope.yaml]\nmodel_list: []"])
        let (_, missing) = loader.check(contentsOfFile: root.appendingPathComponent("config.yaml").path)
        #expect(errors(missing) == ["include[0]: Included file not found: \(root.appendingPathComponent("nope.yaml").path)"])

        let (_, notAList) = loader.check(yaml: "include: models.yaml\nmodel_list: []")
        #expect(errors(notAList) == ["include: 'include' must be a list of file paths"])
    }

    /// A device is not read (it would never end): an error, not a hang.
    @Test func aDeviceIsNotIncluded() {
        let (_, issues) = loader.check(yaml: "include: [/dev/zero]\nmodel_list: []")
        #expect(errors(issues) == ["include[0]: cannot read included file /dev/zero"])
    }

    /// `load(yaml:)` without a path resolves includes from the working directory, as before.
    @Test func textWithoutAPathStillLoads() throws {
        let config = try loader.load(yaml: "model_list: [{model_name: m, litellm_params: {model: mock/m}}]")
        #expect(config.deployments.map(\.modelName) == ["m"])
    }

    // MARK: credential_list

    @Test func credentialValuesFillWhatTheDeploymentLeavesOut() throws {
        let config = try loader.load(
            yaml: """
                credential_list:
                  - credential_name: azure_eu
                    credential_values:
                      api_key: os.environ/KEY_A
                      api_base: https://eu.example.com
                      api_version: "2024-10-21"
                    credential_info: {description: EU}
                model_list:
                  - model_name: gpt
                    litellm_params: {model: azure/gpt-4o, litellm_credential_name: azure_eu}
                  - model_name: gpt
                    litellm_params:
                      model: azure/gpt-4o-b
                      litellm_credential_name: azure_eu
                      api_base: https://own.example.com
                """)
        let first = try #require(config.deployments.first)
        #expect(
            first.apiKey == "sk-a-0123456789" && first.apiBase == "https://eu.example.com" && first.apiVersion == "2024-10-21")
        let second = try #require(config.deployments.last)
        #expect(second.apiBase == "https://own.example.com" && second.apiKey == "sk-a-0123456789")
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    @Test func anUnknownCredentialIsAnErrorAtTheDeployment() {
        let (_, issues) = loader.check(
            yaml: """
                credential_list:
                  - {credential_name: known, credential_values: {api_key: x}}
                model_list:
                  - model_name: gpt
                    litellm_params: {model: openai/gpt-4o, litellm_credential_name: other}
                """)
        #expect(
            errors(issues) == [
                "model_list[0].litellm_params.litellm_credential_name: no credential named 'other' in credential_list (known: known)"
            ])
    }

    // MARK: unset variables

    /// Without the flag an unset variable is an error; with it, a warning, and a required value
    /// that comes from it (Azure's api_base) is not reported as missing.
    @Test func missingEnvironmentWithAndWithoutTheFlag() {
        let yaml = """
            credential_list:
              - {credential_name: c, credential_values: {api_base: os.environ/CRED_BASE}}
            model_list:
              - model_name: a
                litellm_params: {model: azure/a, api_base: os.environ/AZURE_BASE, api_key: os.environ/AZURE_KEY}
              - model_name: b
                litellm_params: {model: azure/b, litellm_credential_name: c}
            """
        let (_, strict) = loader.check(yaml: yaml)
        #expect(
            Set(errors(strict)) == [
                "credential_list[0].credential_values.api_base: environment variable CRED_BASE is not set",
                "model_list[0].litellm_params.api_base: environment variable AZURE_BASE is not set",
                "model_list[0].litellm_params.api_key: environment variable AZURE_KEY is not set",
                "model_list[0].litellm_params.api_base: required for azure/ deployments",
                "model_list[1].litellm_params.api_base: required for azure/ deployments",
            ])
        var lenient = loader
        lenient.allowMissingEnvironment = true
        let (config, relaxed) = lenient.check(yaml: yaml)
        #expect(errors(relaxed).isEmpty, "\(relaxed)")
        let warned = relaxed.filter { $0.severity == .warning }.map(\.path)
        #expect(
            Set(warned) == [
                "credential_list[0].credential_values.api_base", "model_list[0].litellm_params.api_base",
                "model_list[0].litellm_params.api_key",
            ])
        #expect(config?.deployments.count == 2)
    }

    // MARK: every problem

    /// A deployment with several problems has each reported, not only the first.
    @Test func everyProblemOfOneDeploymentIsReported() {
        let (_, issues) = loader.check(
            yaml: """
                model_list:
                  - litellm_params:
                      model: nowhere/x
                      api_key: os.environ/UNSET_ONE
                      rpm: many
                      timeout: -1
                      api_base: ftp://x
                """)
        let path = "model_list[0]"
        #expect(
            Set(errors(issues)) == [
                "\(path).model_name: required",
                "\(path).litellm_params.model: unknown provider 'nowhere' (known: azure, mock, openai)",
                "\(path).litellm_params.api_key: environment variable UNSET_ONE is not set",
                "\(path).litellm_params.rpm: expected an integer, found 'many'",
                "\(path).litellm_params.timeout: must be a number of seconds greater than 0 and at most 86400",
                "\(path).litellm_params.api_base: not an http(s) URL",
            ], "\(issues)")
    }

    // MARK: settings

    @Test func settingsThatChangeMoneyOrAccessAreRefused() {
        let (_, issues) = loader.check(
            yaml: """
                model_list: []
                guardrails: [{guardrail_name: pii, litellm_params: {guardrail: presidio}}]
                litellm_settings: {cache: true, cache_params: {type: redis}, guardrails: [x]}
                general_settings: {database_url: "postgresql://u:p@db/litellm", coordination_redis: {host: r}}
                """)
        let refused = issues.filter { $0.severity == .error }
        #expect(
            Set(refused.map(\.path)) == [
                "guardrails", "litellm_settings.cache", "litellm_settings.guardrails",
                "general_settings.coordination_redis",
            ], "\(issues)")
        // One message each, naming what to do or the issue that brings it; none repeated as a warning.
        #expect(
            refused.allSatisfy {
                $0.message.contains("issue 17") || $0.message.contains("remove") || $0.message.contains("false")
            })
        #expect(!issues.contains { $0.severity == .warning && refused.map(\.path).contains($0.path) })
        #expect(!issues.contains { $0.message.contains("postgresql://u:p@db") }, "the URL carries a password")
    }

    @Test func switchedOffTheyAreAccepted() throws {
        let config = try loader.load(
            yaml: """
                model_list: []
                guardrails: []
                litellm_settings: {cache: false}
                router_settings: {redis_host: null}
                """)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    /// LiteLLM keys Spanway ignores get one warning each naming them, apart from unknown keys.
    @Test func ignoredLiteLLMSettingsAreWarnedByName() throws {
        let config = try loader.load(
            yaml: """
                model_list: []
                general_settings: {proxy_batch_write_at: 60, custom_auth: my.auth}
                litellm_settings: {set_verbose: true, made_up_key: 1}
                """)
        let messages = Dictionary(uniqueKeysWithValues: config.warnings.map { ($0.path, $0.message) })
        #expect(messages["general_settings.proxy_batch_write_at"] == "LiteLLM setting not supported by Spanway, ignored")
        #expect(
            messages["general_settings.custom_auth"]?.hasPrefix("LiteLLM setting not supported by Spanway, ignored: ") == true)
        #expect(messages["litellm_settings.set_verbose"]?.contains("LOG_LEVEL") == true)
        #expect(messages["litellm_settings.made_up_key"] == "unknown key, ignored")
        #expect(config.warnings.count == 4)
    }

    @Test func jsonLogsAndMessageLoggingAreRead() throws {
        let on = try loader.load(
            yaml: """
                model_list: []
                litellm_settings: {json_logs: true, turn_off_message_logging: true}
                spanway_settings: {capture_content: true}
                """)
        #expect(on.jsonLogs && on.turnOffMessageLogging && !on.captureContent)
        #expect(on.warnings.map(\.path) == ["spanway_settings.capture_content"])
        let env = ConfigLoader(environment: ["JSON_LOGS": "True"], knownProviders: [])
        #expect(try env.load(yaml: "model_list: []").jsonLogs)
        let off = try loader.load(yaml: "model_list: []")
        #expect(!off.jsonLogs && !off.turnOffMessageLogging)
    }

    /// `environment_variables` feeds the variables sinks read too (Slack's webhook here), and may
    /// not set what changes the programs the process runs.
    @Test func environmentVariablesReachSinksButNotPath() throws {
        let config = try loader.load(
            yaml: """
                model_list: []
                environment_variables: {SLACK_WEBHOOK_URL: "https://hooks.example.com/x", PATH: /tmp/evil, LD_PRELOAD: x.so}
                general_settings: {alerting: [slack]}
                """)
        #expect(config.alerts?.webhookURL == "https://hooks.example.com/x")
        #expect(config.environmentVariables == ["SLACK_WEBHOOK_URL": "https://hooks.example.com/x"])
        #expect(Set(config.warnings.map(\.path)) == ["environment_variables.PATH", "environment_variables.LD_PRELOAD"])
    }

    /// LiteLLM 1.108.7 reads `require_auth_for_metrics_endpoint` from `litellm_settings`: honoured there too.
    @Test func metricsAuthUnderLiteLLMSettings() throws {
        let on = try loader.load(yaml: "model_list: []\nlitellm_settings: {require_auth_for_metrics_endpoint: true}")
        #expect(on.requireAuthForMetrics && on.warnings.isEmpty)
        let off = try loader.load(yaml: "model_list: []\nlitellm_settings: {require_auth_for_metrics_endpoint: false}")
        #expect(!off.requireAuthForMetrics)
    }
}
