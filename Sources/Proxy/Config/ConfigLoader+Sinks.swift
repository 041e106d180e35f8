import Sinks
import Telemetry
import Yams

extension ConfigLoader {
    static let sinkKeys: Set<String> = [
        "name", "type", "destination", "endpoint", "host", "dsn", "api_base", "public_key", "secret_key", "api_key",
        "headers", "format", "log_format", "events", "capture_content", "environment", "release", "match",
    ]

    /// LiteLLM's three callback lists and the outcomes each one's sinks receive.
    static let callbackLists: [(key: String, outcome: SinkRoute.Outcome)] = [
        ("callbacks", .any), ("success_callback", .success), ("failure_callback", .failure),
    ]

    /// Named callbacks (`callbacks`, `success_callback`, `failure_callback`, with LiteLLM's
    /// variables), `default_team_settings`, and `spanway_settings.sinks`.
    func readSinks(litellm: [String: Node], spanway: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader)
    {
        readCallbacks(litellm, into: &config, &reader)
        if let node = litellm["default_team_settings"],
            let teams = reader.sequence(node, at: "litellm_settings.default_team_settings")
        {
            for (index, team) in teams.enumerated() {
                readTeamSettings(team, at: "litellm_settings.default_team_settings[\(index)]", into: &config, &reader)
            }
        }
        for key in ["capture_content", "redact_emails"] {
            guard let node = spanway[key], let flag = reader.bool(node, at: "spanway_settings.\(key)") else { continue }
            if key == "capture_content" { config.captureContent = flag } else { config.redactEmails = flag }
        }
        if let node = spanway["sinks"], let items = reader.sequence(node, at: "spanway_settings.sinks") {
            for (index, item) in items.enumerated() {
                readSink(item, at: "spanway_settings.sinks[\(index)]", into: &config, &reader)
            }
        }
        var names = Set<String>()
        for sink in config.sinks where !names.insert(sink.name).inserted {
            reader.error("spanway_settings.sinks", "two sinks are named '\(sink.name)'")
        }
    }

    private func readCallbacks(_ litellm: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader) {
        var outcomes: [(name: String, kind: SinkConfig.Kind, outcome: SinkRoute.Outcome, path: String)] = []
        for (key, outcome) in Self.callbackLists {
            let path = "litellm_settings.\(key)"
            for name in litellm[key].flatMap({ reader.stringList($0, at: path) }) ?? [] {
                if !config.callbacks.contains(name) { config.callbacks.append(name) }
                config.callbackLists[key, default: []].append(name)
                if name.lowercased() == "prometheus" { continue }  // always on, at /metrics
                guard let kind = SinkConfig.Kind(callbackName: name) else {
                    reader.warning(path, "callback '\(name)' is not supported by Spanway and is ignored")
                    continue
                }
                // The OTLP exporter of the `OTEL_*` variables; see GatewayBootstrap.
                if kind == .otel { continue }
                if let index = outcomes.firstIndex(where: { $0.kind == kind }) {
                    if outcomes[index].outcome != outcome { outcomes[index].outcome = .any }
                } else {
                    outcomes.append((name.lowercased(), kind, outcome, path))
                }
            }
        }
        for entry in outcomes {
            do {
                config.sinks.append(
                    try SinkConfig.parse(
                        kind: entry.kind, name: entry.kind.rawValue, values: [:], environment: environment,
                        route: SinkRoute(outcome: entry.outcome), captureContent: true
                    ).sink)
            } catch {
                // A credential from the environment, absent where CI checks a config (`--allow-missing-env`).
                if case .missing = error, allowMissingEnvironment {
                    reader.warning(
                        entry.path, "callback '\(entry.name)': \(Self.describe(error)) (allowed by --allow-missing-env)")
                } else {
                    reader.error(entry.path, "callback '\(entry.name)': \(Self.describe(error))")
                }
            }
        }
    }

    private func readTeamSettings(_ node: Node, at path: String, into config: inout GatewayConfig, _ reader: inout YAMLReader) {
        guard let mapping = reader.mapping(node, at: path) else { return }
        guard let teamID = mapping["team_id"].flatMap({ reader.string($0, at: "\(path).team_id") }) else {
            reader.error("\(path).team_id", "is required")
            return
        }
        var settings = TeamTraceSettings()
        var values: [String: String] = [:]
        var callbacks: [(String, SinkRoute.Outcome)] = []
        for (key, node) in mapping where key != "team_id" {
            let keyPath = "\(path).\(key)"
            if let list = Self.callbackLists.first(where: { $0.key == key }) {
                for name in reader.stringList(node, at: keyPath) ?? [] { callbacks.append((name, list.outcome)) }
                continue
            }
            switch key {
            case "default_sinks": settings.defaultSinks = reader.bool(node, at: keyPath)
            case "capture_content": settings.captureContent = reader.bool(node, at: keyPath)
            case "redact_emails": settings.redactEmails = reader.bool(node, at: keyPath)
            default:
                if let value = reader.string(node, at: keyPath) { values[key] = value }
            }
        }
        for (name, outcome) in callbacks {
            do throws(TeamTraceSettings.CallbackProblem) {
                // A team's OTLP callback needs its own endpoint; LiteLLM's config names it `otel_endpoint`.
                guard SinkConfig.Kind(callbackName: name) != .otel || values["otel_endpoint"] != nil else { throw .unsupported }
                let parsed = try TeamTraceSettings.callback(teamID: teamID, name: name, outcome: outcome, values: values)
                config.sinks.append(parsed.sink)
            } catch {
                switch error {
                // LiteLLM configs may name callbacks Spanway does not have: a warning, as for `callbacks`.
                case .unsupported: reader.warning(path, "team callback '\(name)' is not supported and is ignored")
                case .sink(let problem): reader.error(path, "team callback '\(name)': \(Self.describe(problem))")
                }
            }
        }
        config.teamTraceSettings[teamID] = settings
    }

    private func readSink(_ node: Node, at path: String, into config: inout GatewayConfig, _ reader: inout YAMLReader) {
        guard let mapping = reader.mapping(node, at: path) else { return }
        reader.warnUnknown(mapping, known: Self.sinkKeys, at: path)
        guard let typeName = mapping["type"].flatMap({ reader.string($0, at: "\(path).type") }) else {
            reader.error("\(path).type", "is required (otel, langfuse_otel, langfuse, helicone, sentry or generic_api)")
            return
        }
        guard let kind = SinkConfig.Kind(callbackName: typeName) else {
            reader.error(
                "\(path).type", "'\(typeName)' is not one of otel, langfuse_otel, langfuse, helicone, sentry, generic_api")
            return
        }
        let name = mapping["name"].flatMap { reader.string($0, at: "\(path).name") } ?? kind.rawValue
        var values: [String: String] = [:]
        for key in [
            "destination", "endpoint", "host", "dsn", "api_base", "public_key", "secret_key", "api_key", "format",
            "log_format", "environment", "release",
        ] {
            if let node = mapping[key], let value = reader.string(node, at: "\(path).\(key)") { values[key] = value }
        }
        var headers: [(String, String)] = []
        if let node = mapping["headers"], let table = reader.mapping(node, at: "\(path).headers") {
            for (key, value) in table.sorted(by: { $0.key < $1.key }) {
                if let text = reader.string(value, at: "\(path).headers.\(key)") { headers.append((key.lowercased(), text)) }
            }
        }
        var route = SinkRoute()
        if let node = mapping["match"], let match = reader.mapping(node, at: "\(path).match") {
            reader.warnUnknown(match, known: ["team", "key_alias", "model_group", "status"], at: "\(path).match")
            func set(_ key: String) -> Set<String>? {
                match[key].flatMap { reader.stringList($0, at: "\(path).match.\(key)") }.map(Set.init)
            }
            route.teams = set("team")
            route.keyAliases = set("key_alias")
            route.modelGroups = set("model_group")
            // A sink for named teams is those teams' own destination: their opt-out does not silence it.
            route.isDefault = route.teams == nil
            if let node = match["status"], let status = reader.string(node, at: "\(path).match.status") {
                guard let outcome = SinkRoute.Outcome(rawValue: status) else {
                    reader.error("\(path).match.status", "must be success, failure or any")
                    return
                }
                route.outcome = outcome
            }
        }
        if let node = mapping["events"], let events = reader.stringList(node, at: "\(path).events") {
            let success = events.contains("llm_api_success")
            let failure = events.contains("llm_api_failure")
            guard success || failure else {
                reader.error("\(path).events", "must list llm_api_success and/or llm_api_failure")
                return
            }
            route.outcome = success && failure ? route.outcome : success ? .success : .failure
        }
        let capture = mapping["capture_content"].flatMap { reader.bool($0, at: "\(path).capture_content") } ?? true
        do {
            config.sinks.append(
                try SinkConfig.parse(
                    kind: kind, name: name, values: values, headers: headers, environment: environment, route: route,
                    captureContent: capture
                ).sink)
        } catch {
            reader.error(path, Self.describe(error))
        }
    }

    static func describe(_ problem: SinkConfig.Problem) -> String {
        switch problem {
        case .missing(let what): "\(what) is required"
        case .invalid(let field, let why): "\(field) \(why)"
        }
    }
}

extension ConfigLoader {
    /// LiteLLM's `general_settings.alerting: ["slack"]` with `SLACK_WEBHOOK_URL` and `alert_types`,
    /// or `spanway_settings.alerts: {webhook_url, types, sink_failure_seconds}`.
    func readAlerts(
        general: [String: Node], spanway: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader
    ) {
        var url: String?
        var types: [String]?
        var threshold: Double?
        var path = "general_settings.alerting"
        if let node = general["alerting"], let channels = reader.stringList(node, at: path), !channels.isEmpty {
            guard channels.allSatisfy({ ["slack", "webhook"].contains($0) }) else {
                reader.warning(path, "only slack (a Slack-compatible webhook) is supported; other channels are ignored")
                return
            }
            url = environment["SLACK_WEBHOOK_URL"]
            if url == nil {
                if allowMissingEnvironment {
                    reader.warning(path, "SLACK_WEBHOOK_URL is not set (allowed by --allow-missing-env)")
                } else {
                    reader.error(path, "SLACK_WEBHOOK_URL is required")
                }
            }
            types = general["alert_types"].flatMap { reader.stringList($0, at: "general_settings.alert_types") }
        }
        if let node = spanway["alerts"], let alerts = reader.mapping(node, at: "spanway_settings.alerts") {
            path = "spanway_settings.alerts"
            reader.warnUnknown(alerts, known: ["webhook_url", "types", "sink_failure_seconds"], at: path)
            url = alerts["webhook_url"].flatMap { reader.string($0, at: "\(path).webhook_url") } ?? url
            types = alerts["types"].flatMap { reader.stringList($0, at: "\(path).types") } ?? types
            threshold = alerts["sink_failure_seconds"].flatMap { reader.double($0, at: "\(path).sink_failure_seconds") }
        }
        guard let url else { return }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            reader.error(path, "the alert webhook must be an http:// or https:// URL")
            return
        }
        var settings = AlertSettings(webhookURL: url)
        if let types {
            // LiteLLM's other alert types (llm_too_slow, daily_reports, …) are not raised by Spanway.
            settings.kinds = Set(types.compactMap(AlertSettings.Kind.init(rawValue:)))
        }
        if let threshold {
            guard threshold > 0 else {
                reader.error("\(path).sink_failure_seconds", "must be greater than 0")
                return
            }
            settings.sinkFailureSeconds = threshold
        }
        config.alerts = settings
    }

    /// `spanway_settings.prometheus_names: [spanway, litellm]`: the names `/metrics` uses. An unknown
    /// name is an error (a dashboard would silently read nothing); Spanway's own names stay on.
    func readPrometheusNames(_ spanway: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader) {
        let path = "spanway_settings.prometheus_names"
        guard let node = spanway["prometheus_names"], let names = reader.stringList(node, at: path) else { return }
        var chosen: Set<PrometheusNames> = []
        for name in names {
            if let known = PrometheusNames(rawValue: name) {
                chosen.insert(known)
            } else {
                let known = PrometheusNames.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error(path, "unknown name '\(name)' (known: \(known))")
            }
        }
        if !names.isEmpty && !chosen.contains(.spanway) {
            reader.warning(path, "Spanway's own metric names are always exposed; 'spanway' is implied")
        }
        config.prometheusNames = chosen.union([.spanway])
    }
}
