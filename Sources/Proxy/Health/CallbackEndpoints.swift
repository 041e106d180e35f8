import Foundation
import HTTPTypes
import Telemetry

/// LiteLLM's views of the configured callbacks, for its admin UI and scripts, with the master
/// key only: `GET /active/callbacks` (LiteLLM's `active_callbacks`) and `GET /get/config/callbacks`
/// (its `get_config`), in the shapes of litellm 1.108.7. Every credential is masked: keys and
/// headers read `REDACTED`, and a URL keeps its scheme, host, port and path only.
public struct CallbackEndpoints: Sendable {
    let gateway: Gateway

    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    static let redacted = "REDACTED"

    /// `GET /active/callbacks`: the callback lists by LiteLLM's module names.
    public func active(headers: HTTPFields) async -> GatewayReply {
        do {
            _ = try await gateway.authenticator.authenticateAdmin(headers)
        } catch {
            return GatewayReply(error)
        }
        let config = gateway.config
        let lists = config.callbackLists
        let callbacks = lists["callbacks"] ?? []
        let success = lists["success_callback"] ?? []
        let failure = lists["failure_callback"] ?? []
        let all = callbacks + failure + success
        func names(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        let body: JSONObject = [
            // LiteLLM prints the Python value of `general_settings.alerting`.
            "alerting": .string(config.alerts == nil ? "None" : "['slack']"),
            "litellm.callbacks": names(callbacks),
            "litellm.input_callback": .array([]),
            "litellm.failure_callback": names(failure),
            "litellm.success_callback": names(success),
            "litellm._async_success_callback": .array([]),
            "litellm._async_failure_callback": .array([]),
            "litellm._async_input_callback": .array([]),
            "all_litellm_callbacks": names(all),
            "num_callbacks": .int(all.count),
            "num_alerting": .int(config.alerts == nil ? 0 : 1),
            "litellm.request_timeout": .double(Self.seconds(Self.requestTimeout(config))),
            // Spanway's own sinks (`spanway_settings.sinks`, team defaults) beside LiteLLM's lists.
            "spanway.sinks": names(config.sinks.map(\.name)),
        ]
        return Self.reply(body)
    }

    /// `GET /get/config/callbacks`: each configured callback with its variables (masked), the
    /// alerting destinations, the router's settings and the callbacks this gateway can run.
    public func config(headers: HTTPFields) async -> GatewayReply {
        do {
            _ = try await gateway.authenticator.authenticateAdmin(headers)
        } catch {
            return GatewayReply(error)
        }
        let config = gateway.config
        var entries: [JSONValue] = []
        for (list, type) in [
            ("success_callback", "success"), ("failure_callback", "failure"), ("callbacks", "success_and_failure"),
        ] {
            for name in config.callbackLists[list] ?? [] {
                entries.append(
                    .object(["name": .string(name), "variables": .object(variables(of: name)), "type": .string(type)]))
            }
        }
        var alerts: [JSONValue] = []
        var destinations: [JSONValue] = []
        if let settings = config.alerts {
            destinations.append("slack")
            alerts.append(
                .object([
                    "name": "slack", "variables": .object(["SLACK_WEBHOOK_URL": .string(Self.redacted)]),
                    "active_alerts": .array(settings.kinds.map(\.rawValue).sorted().map { .string($0) }),
                    "alerts_to_webhook": .object([:]),
                ]))
        }
        alerts += [
            .object(["name": "email", "variables": .object([:])]), .object(["name": "ms_teams", "variables": .object([:])]),
        ]
        let router = config.routerBehaviour
        let body: JSONObject = [
            "status": "success",
            "callbacks": .array(entries),
            "alerts": .array(alerts),
            "active_alerting_destinations": .array(destinations),
            "router_settings": .object([
                "routing_strategy": .string(config.routingStrategy.rawValue),
                "num_retries": .int(config.numRetries),
                "timeout": .double(Self.seconds(Self.requestTimeout(config))),
                "stream_timeout": router.streamTimeout.map { .double(Self.seconds($0)) } ?? .null,
            ]),
            "available_callbacks": .object(Self.available),
        ]
        return Self.reply(body)
    }

    /// What LiteLLM's `AllCallbacks` lists for a callback, valued from the sink the gateway built
    /// for it (what it really sends with), masked; null where the gateway has no such value.
    private func variables(of name: String) -> JSONObject {
        guard let kind = SinkConfig.Kind(callbackName: name) else { return [:] }
        let sink = gateway.config.sinks.first { $0.kind == kind }
        switch sink?.destination {
        case .langfuse(let credentials), .langfuseOTel(let credentials):
            return [
                "LANGFUSE_PUBLIC_KEY": .string(Self.redacted), "LANGFUSE_SECRET_KEY": .string(Self.redacted),
                "LANGFUSE_HOST": .string(Self.maskedURL(credentials.host)),
            ]
        case .helicone(let baseURL, _):
            return ["HELICONE_API_KEY": .string(Self.redacted), "HELICONE_API_BASE": .string(Self.maskedURL(baseURL))]
        case .sentry:
            return ["SENTRY_DSN": .string(Self.redacted)]
        case .webhook(let url, let headers, _):
            return [
                "GENERIC_LOGGER_ENDPOINT": .string(Self.maskedURL(url)),
                "GENERIC_LOGGER_HEADERS": headers.isEmpty ? .null : .string(Self.redacted),
            ]
        case .otel, nil:
            guard kind == .otel else { return [:] }
            return [
                "OTEL_EXPORTER": .null, "OTEL_EXPORTER_OTLP_PROTOCOL": .null, "OTEL_ENDPOINT": .null,
                "OTEL_TRACES_ENDPOINT": .null, "OTEL_HEADERS": .null,
            ]
        }
    }

    /// Scheme, host, port and path: user information (a Sentry key, a password), the query and
    /// the fragment (tokens) are replaced by `REDACTED`.
    static func maskedURL(_ text: String) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme, let host = components.host
        else { return redacted }
        var masked = "\(scheme)://"
        if components.user != nil || components.password != nil { masked += "\(redacted)@" }
        masked += host
        if let port = components.port { masked += ":\(port)" }
        masked += components.percentEncodedPath
        if components.query != nil { masked += "?\(redacted)" }
        if components.fragment != nil { masked += "#\(redacted)" }
        return masked
    }

    /// The callbacks this gateway runs, in LiteLLM's `AllCallbacks` shape.
    static let available: JSONObject = {
        let entries: [(String, String, [String])] = [
            ("langfuse", "Langfuse", ["LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST"]),
            ("langfuse_otel", "Langfuse OTel", ["LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST"]),
            (
                "otel", "OpenTelemetry",
                ["OTEL_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_ENDPOINT", "OTEL_TRACES_ENDPOINT", "OTEL_HEADERS"]
            ),
            ("generic_api", "Custom Callback API", ["GENERIC_LOGGER_ENDPOINT", "GENERIC_LOGGER_HEADERS"]),
            ("helicone", "Helicone", ["HELICONE_API_KEY", "HELICONE_API_BASE"]),
            ("sentry", "Sentry", ["SENTRY_DSN"]),
            ("prometheus", "Prometheus", []),
        ]
        return JSONObject(
            entries.map { name, ui, params in
                (
                    key: name,
                    value: .object([
                        "litellm_callback_name": .string(name), "litellm_callback_params": .array(params.map { .string($0) }),
                        "ui_callback_name": .string(ui),
                    ])
                )
            })
    }()

    /// LiteLLM's `request_timeout`: the configured one, else its default of 6000 s.
    static func requestTimeout(_ config: GatewayConfig) -> Duration {
        config.routerBehaviour.requestTimeout ?? config.routerBehaviour.timeout ?? RouterBehaviour.defaultTimeout
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func reply(_ body: JSONObject) -> GatewayReply {
        GatewayReply(
            status: 200, headers: [("content-type", "application/json")], body: .bytes(JSONValue.object(body).encoded()))
    }
}
