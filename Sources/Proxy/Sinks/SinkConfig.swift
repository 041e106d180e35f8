import Sinks
import Telemetry

/// One telemetry destination: a LiteLLM callback name (`langfuse`, `sentry`, …) resolved with
/// its settings, or an entry of `spanway_settings.sinks`, or a team's own callback.
public struct SinkConfig: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case otel
        case langfuseOTel = "langfuse_otel"
        case langfuse
        case helicone
        case sentry
        case webhook = "generic_api"

        /// LiteLLM's names and their common spellings.
        public init?(callbackName: String) {
            switch callbackName.lowercased() {
            case "otel", "opentelemetry", "otlp": self = .otel
            case "langfuse_otel": self = .langfuseOTel
            case "langfuse": self = .langfuse
            case "helicone": self = .helicone
            case "sentry": self = .sentry
            case "generic_api", "generic", "webhook": self = .webhook
            default: return nil
            }
        }

        /// Trace sinks follow the sampler; the others log every request (a webhook is often billing,
        /// and a failure should always reach Sentry).
        var followsSampling: Bool { self == .otel || self == .langfuseOTel || self == .langfuse }
    }

    public var name: String
    public var kind: Kind
    /// URL, host or DSN. A DSN carries a key: never logged.
    public var destination: String
    /// Langfuse's public key.
    public var publicKey: String?
    /// Langfuse's secret key, Helicone's API key.
    public var secretKey: String?
    public var headers: [(String, String)]
    /// Webhook body format: `json_array`, `ndjson` or `single`.
    public var format: String
    public var route: SinkRoute
    public var captureContent: Bool
    /// Sentry's `environment` and `release`.
    public var environment: String
    public var release: String?

    /// Values that must never appear in a log line or a payload.
    public var secrets: [String] {
        var values = [publicKey, secretKey].compactMap { $0 } + headers.map(\.1)
        if kind == .sentry || kind == .webhook || kind == .otel { values.append(destination) }
        return values
    }

    public enum Problem: Error, Equatable {
        case missing(String)
        case invalid(String, String)
    }

    /// Builds a sink from its settings: `values` are the sink's own keys (YAML or a team's
    /// `callback_vars`, LiteLLM's names accepted), then `environment` with LiteLLM's variables.
    public static func make(
        kind: Kind, name: String, values: [String: String], headers: [(String, String)] = [],
        environment: [String: String], route: SinkRoute, captureContent: Bool
    ) throws(Problem) -> SinkConfig {
        func first(_ keys: [String], env: [String] = []) -> String? {
            for key in keys { if let v = values[key], !v.isEmpty { return v } }
            for key in env { if let v = environment[key], !v.isEmpty { return v } }
            return nil
        }
        func required(_ keys: [String], env: [String]) throws(Problem) -> String {
            guard let value = first(keys, env: env) else { throw .missing(([keys[0]] + env).joined(separator: " or ")) }
            return value
        }
        var sink = SinkConfig(
            name: name, kind: kind, destination: "", publicKey: nil, secretKey: nil, headers: headers,
            format: "json_array", route: route, captureContent: captureContent,
            environment: first(["environment"], env: ["SENTRY_ENVIRONMENT"]) ?? "production",
            release: first(["release"], env: ["SENTRY_RELEASE"]))
        switch kind {
        case .otel:
            sink.destination = try required(["destination", "endpoint", "otel_endpoint"], env: [])
        case .langfuse, .langfuseOTel:
            sink.publicKey = try required(["public_key", "langfuse_public_key"], env: ["LANGFUSE_PUBLIC_KEY"])
            sink.secretKey = try required(["secret_key", "langfuse_secret_key"], env: ["LANGFUSE_SECRET_KEY"])
            let hostVariables = kind == .langfuseOTel ? ["LANGFUSE_OTEL_HOST", "LANGFUSE_HOST"] : ["LANGFUSE_HOST"]
            sink.destination = first(["destination", "host", "langfuse_host"], env: hostVariables) ?? "https://cloud.langfuse.com"
        case .helicone:
            sink.secretKey = try required(["api_key", "helicone_api_key"], env: ["HELICONE_API_KEY"])
            sink.destination = first(["destination", "api_base", "helicone_api_base"], env: ["HELICONE_API_BASE"])
                ?? "https://api.worker.helicone.ai"
        case .sentry:
            sink.destination = try required(["destination", "dsn", "sentry_dsn"], env: ["SENTRY_DSN"])
            // Sentry takes failures only.
            sink.route.outcome = .failure
        case .webhook:
            sink.destination = try required(["destination", "endpoint", "generic_logger_endpoint"], env: ["GENERIC_LOGGER_ENDPOINT"])
            if headers.isEmpty, let list = first(["generic_logger_headers"], env: ["GENERIC_LOGGER_HEADERS"]) {
                sink.headers = OTLPConfiguration.parseList(list)
            }
            sink.format = first(["format", "log_format"]) ?? "json_array"
            guard ["json_array", "ndjson", "single"].contains(sink.format) else {
                throw .invalid("format", "must be json_array, ndjson or single")
            }
        }
        guard sink.kind == .sentry || sink.destination.hasPrefix("http://") || sink.destination.hasPrefix("https://") else {
            throw .invalid("destination", "must be an http:// or https:// URL")
        }
        return sink
    }
}
