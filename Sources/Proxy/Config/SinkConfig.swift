import Sinks
import Telemetry

/// One telemetry destination: a LiteLLM callback name (`langfuse`, `sentry`, …) resolved with
/// its settings, or an entry of `spanway_settings.sinks`, or a team's own callback. Where it sends
/// and with what credentials depends on the kind, so that part is an enum with one case per kind;
/// `SinkConfig.parse` is the one place that builds it.
public struct SinkConfig: Sendable {
    public var name: String
    public var destination: Destination
    public var route: SinkRoute
    public var captureContent: Bool

    public var kind: Kind { destination.kind }

    /// Where one sink sends, and how. A DSN, a key or a header value is a credential: never logged.
    public enum Destination: Sendable {
        /// An OTLP/HTTP collector: its base URL, or its full `…/v1/traces` URL.
        case otel(endpoint: String, headers: [(String, String)])
        /// Langfuse's OTLP endpoint.
        case langfuseOTel(LangfuseCredentials)
        /// Langfuse's batch ingestion API.
        case langfuse(LangfuseCredentials)
        case helicone(baseURL: String, apiKey: String)
        /// Sentry takes failures only. The DSN is checked when the exporter is built, so a bad one
        /// disables that sink, not the gateway.
        case sentry(dsn: String, environment: String, release: String?)
        case webhook(url: String, headers: [(String, String)], format: WebhookFormat)

        public var kind: Kind {
            switch self {
            case .otel: .otel
            case .langfuseOTel: .langfuseOTel
            case .langfuse: .langfuse
            case .helicone: .helicone
            case .sentry: .sentry
            case .webhook: .webhook
            }
        }

        /// The URL requests go to (Langfuse's and Helicone's base), or the Sentry DSN.
        public var address: String {
            switch self {
            case .otel(let endpoint, _): endpoint
            case .langfuseOTel(let credentials), .langfuse(let credentials): credentials.host
            case .helicone(let baseURL, _): baseURL
            case .sentry(let dsn, _, _): dsn
            case .webhook(let url, _, _): url
            }
        }
    }

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

    /// Values that must never appear in a log line or a payload.
    public var secrets: [String] {
        switch destination {
        case .otel(let endpoint, let headers): headers.map(\.1) + [endpoint]
        case .langfuseOTel(let credentials), .langfuse(let credentials): [credentials.publicKey, credentials.secretKey]
        case .helicone(_, let apiKey): [apiKey]
        case .sentry(let dsn, _, _): [dsn]
        case .webhook(let url, let headers, _): headers.map(\.1) + [url]
        }
    }

    public enum Problem: Error, Equatable {
        case missing(String)
        case invalid(String, String)
    }

    /// A parsed sink and the key of `values` that named its destination (nil when the kind's
    /// default or a variable was used), so a refused destination can be reported by its field.
    public struct Parsed: Sendable {
        public var sink: SinkConfig
        public var destinationKey: String?
    }

    /// Builds a sink from its settings: `values` are the sink's own keys (YAML or a team's
    /// `callback_vars`, LiteLLM's names accepted), then `environment` with LiteLLM's variables.
    public static func parse(
        kind: Kind, name: String, values: [String: String], headers: [(String, String)] = [],
        environment: [String: String], route: SinkRoute, captureContent: Bool
    ) throws(Problem) -> Parsed {
        var reader = Values(values: values, environment: environment)
        var route = route
        let destination: Destination
        switch kind {
        case .otel:
            let endpoint = try reader.required(["destination", "endpoint", "otel_endpoint"], env: [], destination: true)
            destination = .otel(endpoint: endpoint, headers: headers)
        case .langfuse, .langfuseOTel:
            let publicKey = try reader.required(["public_key", "langfuse_public_key"], env: ["LANGFUSE_PUBLIC_KEY"])
            let secretKey = try reader.required(["secret_key", "langfuse_secret_key"], env: ["LANGFUSE_SECRET_KEY"])
            let hostVariables = kind == .langfuseOTel ? ["LANGFUSE_OTEL_HOST", "LANGFUSE_HOST"] : ["LANGFUSE_HOST"]
            let host =
                reader.first(["destination", "host", "langfuse_host"], env: hostVariables, destination: true)
                ?? "https://cloud.langfuse.com"
            let credentials = LangfuseCredentials(host: host, publicKey: publicKey, secretKey: secretKey)
            destination = kind == .langfuse ? .langfuse(credentials) : .langfuseOTel(credentials)
        case .helicone:
            let apiKey = try reader.required(["api_key", "helicone_api_key"], env: ["HELICONE_API_KEY"])
            let baseURL =
                reader.first(["destination", "api_base", "helicone_api_base"], env: ["HELICONE_API_BASE"], destination: true)
                ?? "https://api.worker.helicone.ai"
            destination = .helicone(baseURL: baseURL, apiKey: apiKey)
        case .sentry:
            let dsn = try reader.required(["destination", "dsn", "sentry_dsn"], env: ["SENTRY_DSN"], destination: true)
            destination = .sentry(
                dsn: dsn, environment: reader.first(["environment"], env: ["SENTRY_ENVIRONMENT"]) ?? "production",
                release: reader.first(["release"], env: ["SENTRY_RELEASE"]))
            route.outcome = .failure
        case .webhook:
            let url = try reader.required(
                ["destination", "endpoint", "generic_logger_endpoint"], env: ["GENERIC_LOGGER_ENDPOINT"], destination: true)
            var headers = headers
            if headers.isEmpty, let list = reader.first(["generic_logger_headers"], env: ["GENERIC_LOGGER_HEADERS"]) {
                headers = OTLPConfiguration.parseList(list)
            }
            let formatName = reader.first(["format", "log_format"]) ?? WebhookFormat.jsonArray.rawValue
            guard let format = WebhookFormat(rawValue: formatName) else {
                throw .invalid("format", "must be json_array, ndjson or single")
            }
            destination = .webhook(url: url, headers: headers, format: format)
        }
        let address = destination.address
        guard kind == .sentry || address.hasPrefix("http://") || address.hasPrefix("https://") else {
            throw .invalid("destination", "must be an http:// or https:// URL")
        }
        return Parsed(
            sink: SinkConfig(name: name, destination: destination, route: route, captureContent: captureContent),
            destinationKey: reader.destinationKey)
    }

    /// A sink's own keys first, then the environment; empty values count as absent.
    private struct Values {
        let values: [String: String]
        let environment: [String: String]
        private(set) var destinationKey: String?

        init(values: [String: String], environment: [String: String]) {
            self.values = values
            self.environment = environment
        }

        mutating func first(_ keys: [String], env: [String] = [], destination: Bool = false) -> String? {
            for key in keys {
                if let value = values[key], !value.isEmpty {
                    if destination { destinationKey = key }
                    return value
                }
            }
            for key in env { if let value = environment[key], !value.isEmpty { return value } }
            return nil
        }

        mutating func required(_ keys: [String], env: [String], destination: Bool = false) throws(Problem) -> String {
            guard let value = first(keys, env: env, destination: destination) else {
                throw .missing(([keys[0]] + env).joined(separator: " or "))
            }
            return value
        }
    }
}
