import Crypto
import Foundation
import Store
import Tokenizers
import Yams

/// Reads LiteLLM's `config.yaml`. Every problem is collected with its YAML path rather than
/// stopping at the first: missing env vars, wrong types and unknown providers are errors; unknown
/// keys are warnings, so a LiteLLM config with settings Spanway does not use still loads.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]
    public var knownProviders: Set<String>
    /// Providers with no shared endpoint (Azure, Databricks): their deployments must set `api_base`.
    public var providersNeedingAPIBase: Set<String>
    /// `spanway check --allow-missing-env`: an unset `os.environ/NAME` is a warning, not an error.
    /// Never for serving: the gateway would run without the credential.
    public var allowMissingEnvironment = false

    public init(environment: [String: String], knownProviders: Set<String>, providersNeedingAPIBase: Set<String> = []) {
        self.environment = environment
        self.knownProviders = knownProviders
        self.providersNeedingAPIBase = providersNeedingAPIBase
    }

    /// The config file at `path`; its `include:` paths resolve next to it.
    public func load(contentsOfFile path: String) throws(ConfigError) -> GatewayConfig {
        try Self.accept(check(contentsOfFile: path))
    }

    /// The config, or every error found; warnings ride along in `GatewayConfig.warnings`.
    /// `path` is the file the text came from, where `include:` paths resolve (else the working directory).
    public func load(yaml: String, path: String? = nil) throws(ConfigError) -> GatewayConfig {
        try Self.accept(check(yaml: yaml, path: path))
    }

    private static func accept(_ result: (GatewayConfig?, [ConfigIssue])) throws(ConfigError) -> GatewayConfig {
        let (config, issues) = result
        guard let config, !issues.contains(where: { $0.severity == .error }) else {
            throw ConfigError(issues: issues)
        }
        return config
    }

    /// Every issue of the config file at `path`, and the config when it could be built.
    public func check(contentsOfFile path: String) -> (GatewayConfig?, [ConfigIssue]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            return (nil, [ConfigIssue(.error, "", "cannot read config file \(path)")])
        }
        return check(yaml: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Every issue, errors and warnings, and the config when it could be built.
    public func check(yaml: String, path: String? = nil) -> (GatewayConfig?, [ConfigIssue]) {
        let parsed: Node?
        do {
            parsed = try Yams.compose(yaml: yaml)
        } catch {
            return (nil, [ConfigIssue(.error, "", "not valid YAML: \(error)")])
        }
        var reader = YAMLReader(environment: environment)
        reader.missingEnvironmentIsWarning = allowMissingEnvironment
        guard let parsed else { return (GatewayConfig(), [ConfigIssue(.warning, "", "config is empty")]) }
        let root = resolveIncludes(parsed, file: path, &reader)
        // First, so that `os.environ/NAME` and the variables sinks read resolve from them, as
        // LiteLLM sets these for its process before reading the rest.
        let variables = readEnvironmentVariables(root, &reader)
        var effective = self
        effective.environment.merge(variables) { $1 }
        var config = effective.read(root, &reader)
        config?.environmentVariables = variables
        var result = config
        result?.warnings = reader.issues.filter { $0.severity == .warning }
        return (result, reader.issues)
    }

    private func read(_ root: Node, _ reader: inout YAMLReader) -> GatewayConfig? {
        guard let top = reader.mapping(root, at: "") else { return nil }
        reader.warnUnknown(
            top,
            known: [
                "model_list", "general_settings", "litellm_settings", "router_settings", "spanway_settings",
                "environment_variables", "credential_list",
            ], at: "")
        refuseUnsupported(top, &reader)
        var config = GatewayConfig()

        let general = top["general_settings"].flatMap { reader.mapping($0, at: "general_settings") } ?? [:]
        reader.warnUnknown(
            general,
            known: [
                "master_key", "max_request_size_mb", "disable_spend_logs", "alerting", "alert_types",
                "require_auth_for_metrics_endpoint", "background_health_checks", "health_check_interval",
                "database_url", "store_model_in_db",
            ], at: "general_settings")
        // Models added through `/model/new` are always kept in the store, so LiteLLM's switch for
        // that is checked for its type and has nothing more to turn on.
        _ = general["store_model_in_db"].flatMap { reader.bool($0, at: "general_settings.store_model_in_db") }
        readHealthChecks(general, into: &config.healthChecks, &reader)
        if let node = general["disable_spend_logs"] {
            config.disableSpendLogs = reader.bool(node, at: "general_settings.disable_spend_logs") ?? false
        }
        config.masterKey = general["master_key"].flatMap { reader.string($0, at: "general_settings.master_key") }
        config.databaseURL = general["database_url"].flatMap { reader.string($0, at: "general_settings.database_url") }
        if let node = general["max_request_size_mb"],
            let mb = reader.double(node, at: "general_settings.max_request_size_mb")
        {
            // Bounded before converting: `Int(1e300)` traps.
            if mb > 0 && mb <= 1_048_576 {
                config.maxRequestBodyBytes = Int(mb * 1024 * 1024)
            } else {
                reader.error("general_settings.max_request_size_mb", "must be greater than 0 and at most 1048576")
            }
        }

        let litellm = top["litellm_settings"].flatMap { reader.mapping($0, at: "litellm_settings") } ?? [:]
        reader.warnUnknown(
            litellm,
            known: Set(["callbacks", "success_callback", "failure_callback", "drop_params", "default_team_settings"])
                .union(Self.fallbackKeys).union(Self.proxyBudgetKeys).union(Self.loggingKeys)
                .union(["require_auth_for_metrics_endpoint"])
                .union(Self.liteLLMRouterKeys),
            at: "litellm_settings")
        readProxyBudget(litellm, into: &config, &reader)
        if let node = litellm["drop_params"] {
            config.dropParams = reader.bool(node, at: "litellm_settings.drop_params") ?? false
        }

        let router = top["router_settings"].flatMap { reader.mapping($0, at: "router_settings") } ?? [:]
        reader.warnUnknown(
            router,
            known: Set([
                "num_retries", "allowed_fails", "cooldown_time", "model_group_alias", "routing_strategy", "retry_policy",
                "enable_pre_call_checks",
            ]).union(Self.fallbackKeys).union(Self.routerBehaviourKeys).union(Self.redisKeys), at: "router_settings")
        readSharedState(router: router, into: &config, &reader)
        if let node = router["enable_pre_call_checks"] {
            config.enablePreCallChecks = reader.bool(node, at: "router_settings.enable_pre_call_checks") ?? false
        }
        if let node = router["retry_policy"], let policy = reader.mapping(node, at: "router_settings.retry_policy") {
            reader.warnUnknown(policy, known: Set(RetryPolicy.Kind.allCases.map(\.rawValue)), at: "router_settings.retry_policy")
            for kind in RetryPolicy.Kind.allCases {
                let path = "router_settings.retry_policy.\(kind.rawValue)"
                guard let value = policy[kind.rawValue], let count = reader.int(value, at: path) else { continue }
                if count >= 0 { config.retryPolicy.retries[kind] = count } else { reader.error(path, "must not be negative") }
            }
        }
        if let node = router["routing_strategy"], let name = reader.string(node, at: "router_settings.routing_strategy") {
            if let strategy = RoutingStrategy(configName: name) {
                config.routingStrategy = strategy
            } else {
                let known = RoutingStrategy.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error("router_settings.routing_strategy", "unknown strategy '\(name)' (known: \(known))")
            }
        }
        if let node = router["model_group_alias"], let aliases = reader.mapping(node, at: "router_settings.model_group_alias") {
            for (alias, target) in aliases {
                let path = "router_settings.model_group_alias.\(alias)"
                // LiteLLM also takes `{model: name, hidden: true}`.
                if let entry = target.mapping, let model = entry["model"] {
                    config.modelGroupAliases[alias] = reader.string(model, at: "\(path).model")
                } else {
                    config.modelGroupAliases[alias] = reader.string(target, at: path)
                }
            }
        }
        for (section, settings) in [("litellm_settings", litellm), ("router_settings", router)] {
            readFallbacks(settings, at: section, into: &config.fallbacks, &reader)
        }
        if let node = router["allowed_fails"], let fails = reader.int(node, at: "router_settings.allowed_fails") {
            if fails >= 0 {
                config.cooldowns.allowedFails = fails
            } else {
                reader.error("router_settings.allowed_fails", "must not be negative")
            }
        }
        if let node = router["cooldown_time"], let seconds = reader.double(node, at: "router_settings.cooldown_time") {
            if seconds >= 0 && seconds <= 86_400 {
                config.cooldowns.cooldownTime = seconds
            } else {
                reader.error("router_settings.cooldown_time", "must be between 0 and 86400 seconds")
            }
        }
        if let node = router["num_retries"], let retries = reader.int(node, at: "router_settings.num_retries") {
            if retries >= 0 {
                config.numRetries = retries
            } else {
                reader.error("router_settings.num_retries", "must not be negative")
            }
        }
        readRouterBehaviour(router: router, litellm: litellm, into: &config, &reader)

        let spanway = top["spanway_settings"].flatMap { reader.mapping($0, at: "spanway_settings") } ?? [:]
        reader.warnUnknown(
            spanway,
            known: Set([
                "pricing_file", "reasoning_content", "sinks", "capture_content", "redact_emails", "alerts", "require_price",
                "ledger_fsync", "spend_logs_retention", "prometheus_names", "tokenizer_dir", "responses_ttl",
                "responses_max_stored",
            ])
            .union(ServerLimits.keys).union(["allowed_egress"]),
            at: "spanway_settings")
        readServerLimits(spanway, into: &config.serverLimits, &reader)
        readAllowedEgress(spanway, into: &config.allowedEgress, &reader)
        readSinks(litellm: litellm, spanway: spanway, into: &config, &reader)
        readPrometheusNames(spanway, into: &config, &reader)
        readAlerts(general: general, spanway: spanway, into: &config, &reader)
        readLogging(litellm, spanway: spanway, into: &config, &reader)
        if let node = spanway["reasoning_content"] {
            config.reasoningContent = reader.bool(node, at: "spanway_settings.reasoning_content") ?? false
        }
        if let node = spanway["ledger_fsync"], let name = reader.string(node, at: "spanway_settings.ledger_fsync") {
            if let sync = SpendJournal.Sync(rawValue: name) {
                config.ledgerFsync = sync
            } else {
                let known = SpendJournal.Sync.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error("spanway_settings.ledger_fsync", "unknown value '\(name)' (known: \(known))")
            }
        }
        config.pricingFile = spanway["pricing_file"].flatMap { reader.string($0, at: "spanway_settings.pricing_file") }
        config.tokenizerDirectories =
            RankFileSources(
                configured: spanway["tokenizer_dir"].flatMap { reader.string($0, at: "spanway_settings.tokenizer_dir") },
                environment: environment
            ).directories
        if let node = spanway["spend_logs_retention"],
            let text = reader.string(node, at: "spanway_settings.spend_logs_retention")
        {
            config.spendLogsRetention = DurationText.seconds(text)
            if config.spendLogsRetention == nil {
                reader.error("spanway_settings.spend_logs_retention", "'\(text)' is not a duration like 30d, 12h or 1mo")
            }
        }
        if let node = spanway["responses_ttl"], let text = reader.string(node, at: "spanway_settings.responses_ttl") {
            if let seconds = DurationText.seconds(text) {
                config.responses.ttlSeconds = seconds
            } else {
                reader.error("spanway_settings.responses_ttl", "'\(text)' is not a duration like 30d, 12h or 1mo")
            }
        }
        if let node = spanway["responses_max_stored"],
            let count = reader.int(node, at: "spanway_settings.responses_max_stored")
        {
            config.responses.maxResponses = max(0, count)
        }

        let credentials = readCredentials(top["credential_list"], &reader)
        if let list = top["model_list"] {
            guard let items = reader.sequence(list, at: "model_list") else { return config }
            var ids = Set<String>()
            for (index, item) in items.enumerated() {
                let path = "model_list[\(index)]"
                guard
                    let deployment = readDeployment(
                        item, at: path, dropParams: config.dropParams, credentials: credentials, &reader)
                else { continue }
                if !ids.insert(deployment.id).inserted {
                    reader.error("\(path).model_info.id", "duplicate deployment id '\(deployment.id)'")
                }
                config.deployments.append(deployment)
            }
        } else {
            reader.warning("model_list", "no models configured; every request will be answered 404")
        }
        readExposure(general: general, spanway: spanway, into: &config, &reader)
        // Where LiteLLM 1.108.7 reads it; `general_settings` (read above) is Spanway's older place.
        if let node = litellm["require_auth_for_metrics_endpoint"],
            let flag = reader.bool(node, at: "litellm_settings.require_auth_for_metrics_endpoint")
        {
            config.requireAuthForMetrics = flag
        }
        checkFallbackTargets(config, &reader)
        return config
    }

    static let fallbackKeys: Set<String> = [
        "fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "default_fallbacks",
    ]

    /// LiteLLM's shape: a list of one-key mappings, `- gpt-4o: [claude, gemini]`.
    private func readFallbacks(
        _ settings: [String: Node], at section: String, into fallbacks: inout Fallbacks, _ reader: inout YAMLReader
    ) {
        func table(_ key: String) -> [String: [String]] {
            guard let node = settings[key], let items = reader.sequence(node, at: "\(section).\(key)") else { return [:] }
            var table: [String: [String]] = [:]
            for (index, item) in items.enumerated() {
                let path = "\(section).\(key)[\(index)]"
                guard let entry = reader.mapping(item, at: path) else { continue }
                for (group, targets) in entry {
                    table[group] = reader.stringList(targets, at: "\(path).\(group)")
                }
            }
            return table
        }
        fallbacks.general.merge(table("fallbacks")) { $1 }
        fallbacks.contextWindow.merge(table("context_window_fallbacks")) { $1 }
        fallbacks.contentPolicy.merge(table("content_policy_fallbacks")) { $1 }
        if let node = settings["default_fallbacks"], let list = reader.stringList(node, at: "\(section).default_fallbacks") {
            fallbacks.defaults = list
        }
    }

    /// Every group a fallback names must exist: a typo would otherwise surface only in an outage.
    private func checkFallbackTargets(_ config: GatewayConfig, _ reader: inout YAMLReader) {
        let groups = Set(config.modelGroups)
        let f = config.fallbacks
        for (kind, table) in [
            ("fallbacks", f.general), ("context_window_fallbacks", f.contextWindow),
            ("content_policy_fallbacks", f.contentPolicy),
        ] {
            for (group, targets) in table.sorted(by: { $0.key < $1.key }) {
                for name in [group] + targets where !groups.contains(name) {
                    reader.error(kind, "'\(name)' is not a model_name in model_list")
                }
            }
        }
        for (alias, target) in config.modelGroupAliases.sorted(by: { $0.key < $1.key }) where !groups.contains(target) {
            reader.error("router_settings.model_group_alias.\(alias)", "'\(target)' is not a model_name in model_list")
        }
        for name in f.defaults where !groups.contains(name) {
            reader.error("default_fallbacks", "'\(name)' is not a model_name in model_list")
        }
    }

    func readDeployment(
        _ node: Node, at path: String, dropParams: Bool, credentials: [String: Credential], _ reader: inout YAMLReader
    ) -> DeploymentConfig? {
        guard let entry = reader.mapping(node, at: path) else { return nil }
        reader.warnUnknown(entry, known: ["model_name", "litellm_params", "model_info"], at: path)
        // Every problem of the entry is reported, not only the first: the entry is read to its end
        // and dropped afterwards when it cannot be served (`usable`).
        var name: String?
        if let nameNode = entry["model_name"] {
            name = reader.string(nameNode, at: "\(path).model_name")
        } else {
            reader.error("\(path).model_name", "required")
        }
        guard let params = entry["litellm_params"] else {
            reader.error("\(path).litellm_params", "required")
            return nil
        }
        let paramsPath = "\(path).litellm_params"
        guard var litellm = reader.mapping(params, at: paramsPath) else { return nil }
        // Keys the gateway reads; every other one is a default parameter for the provider.
        let defaultParams = readDefaultParams(
            litellm,
            known: ProviderParams.names.union([
                "model", "api_base", "api_key", "api_version", "timeout", "rpm", "tpm", "input_cost_per_token",
                "output_cost_per_token", "drop_params", "weight", "order", "tags", "stream_timeout",
                "litellm_credential_name",
            ]), at: paramsPath, &reader)
        applyCredential(to: &litellm, at: paramsPath, from: credentials, &reader)
        var usable = name != nil
        var provider = ""
        var model = ""
        if let modelNode = litellm["model"] {
            if let qualified = reader.string(modelNode, at: "\(paramsPath).model") {
                if let slash = qualified.firstIndex(of: "/") {
                    provider = String(qualified[..<slash])
                    model = String(qualified[qualified.index(after: slash)...])
                } else {
                    // LiteLLM treats a bare name as an OpenAI model.
                    provider = "openai"
                    model = qualified
                    reader.warning("\(paramsPath).model", "no provider prefix; assuming openai/\(qualified)")
                }
                if !knownProviders.contains(provider) {
                    let known = knownProviders.sorted().joined(separator: ", ")
                    reader.error("\(paramsPath).model", "unknown provider '\(provider)' (known: \(known))")
                    usable = false
                } else if model.isEmpty {
                    reader.error("\(paramsPath).model", "model name after '\(provider)/' is empty")
                    usable = false
                }
            } else {
                usable = false
            }
        } else {
            reader.error("\(paramsPath).model", "required (provider/model, e.g. openai/gpt-4o)")
            usable = false
        }

        var deployment = DeploymentConfig(modelName: name ?? "", provider: provider, model: model, id: "")
        deployment.defaultParams = defaultParams
        if let node = litellm["api_base"], let base = reader.string(node, at: "\(paramsPath).api_base") {
            if let url = URL(string: base), ["http", "https"].contains(url.scheme?.lowercased()), url.host != nil {
                deployment.apiBase = base
            } else {
                reader.error("\(paramsPath).api_base", "not an http(s) URL")
            }
        }
        // An `api_base` from an unset variable (allowed by `--allow-missing-env`) is not missing.
        if deployment.apiBase == nil && providersNeedingAPIBase.contains(provider)
            && !reader.isDeferred("\(paramsPath).api_base")
        {
            reader.error("\(paramsPath).api_base", "required for \(provider)/ deployments")
        }
        deployment.apiKey = litellm["api_key"].flatMap { reader.string($0, at: "\(paramsPath).api_key") }
        deployment.apiVersion = litellm["api_version"].flatMap { reader.string($0, at: "\(paramsPath).api_version") }
        for (key, field) in [("timeout", \DeploymentConfig.timeout), ("stream_timeout", \DeploymentConfig.streamTimeout)] {
            guard let node = litellm[key], let timeout = reader.timeout(node, at: "\(paramsPath).\(key)") else { continue }
            deployment[keyPath: field] = timeout
        }
        if let node = litellm["weight"], let weight = reader.double(node, at: "\(paramsPath).weight") {
            if weight >= 0 { deployment.weight = weight } else { reader.error("\(paramsPath).weight", "must not be negative") }
        }
        deployment.tags = litellm["tags"].flatMap { reader.stringList($0, at: "\(paramsPath).tags") } ?? []
        deployment.order = litellm["order"].flatMap { reader.int($0, at: "\(paramsPath).order") }
        deployment.rpm = litellm["rpm"].flatMap { reader.int($0, at: "\(paramsPath).rpm") }
        deployment.tpm = litellm["tpm"].flatMap { reader.int($0, at: "\(paramsPath).tpm") }
        deployment.inputCostPerToken = litellm["input_cost_per_token"].flatMap {
            reader.double($0, at: "\(paramsPath).input_cost_per_token")
        }
        deployment.outputCostPerToken = litellm["output_cost_per_token"].flatMap {
            reader.double($0, at: "\(paramsPath).output_cost_per_token")
        }

        deployment.dropParams = litellm["drop_params"].flatMap { reader.bool($0, at: "\(paramsPath).drop_params") } ?? dropParams
        for name in ProviderParams.names.sorted() {
            if let node = litellm[name], let value = reader.string(node, at: "\(paramsPath).\(name)") {
                deployment.providerParams[name] = value
            }
        }

        var id: String?
        if let infoNode = entry["model_info"], let info = reader.mapping(infoNode, at: "\(path).model_info") {
            reader.warnUnknown(info, known: Self.modelInfoKeys.union(["id"]), at: "\(path).model_info")
            id = info["id"].flatMap { reader.string($0, at: "\(path).model_info.id") }
            readModelInfo(info, at: "\(path).model_info", into: &deployment, &reader)
        }
        guard usable else { return nil }
        deployment.id = id ?? Self.stableID(deployment)
        return deployment
    }

    /// A deployment id that survives restarts and reordering: a hash of what makes it distinct.
    static func stableID(_ d: DeploymentConfig) -> String {
        // Where a deployment runs (region, project) tells apart two entries for the same model; it is
        // added only when set so that ids of configs without it stay as they were.
        let location = ["aws_region_name", "vertex_project", "vertex_location"].compactMap { d.providerParams[$0] }
        let identity = ([d.modelName, d.provider, d.model, d.apiBase ?? "", d.apiVersion ?? ""] + location)
            .joined(separator: "\u{1F}")
        let digest = SHA256.hash(data: Array(identity.utf8))
        return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
