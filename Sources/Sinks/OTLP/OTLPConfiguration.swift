import Telemetry

/// Where and how the OTLP/HTTP trace exporter sends, from the standard `OTEL_*` variables.
public struct OTLPConfiguration: Sendable {
    /// The full traces URL (`…/v1/traces`).
    public var endpoint: String
    /// Extra request headers (authentication for hosted collectors). Never logged.
    public var headers: [(String, String)]
    public var gzip: Bool
    public var timeout: Duration
    public var backoff: Backoff
    public var resource: [SpanAttribute]

    public init(
        endpoint: String, headers: [(String, String)] = [], gzip: Bool = true, timeout: Duration = .seconds(10),
        backoff: Backoff = Backoff(), resource: [SpanAttribute] = [SpanAttribute("service.name", .string("spanway"))]
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.gzip = gzip
        self.timeout = timeout
        self.backoff = backoff
        self.resource = resource
    }

    public static let defaultBaseEndpoint = "http://localhost:4318"

    /// Reads the variables; `enabled` says whether the config asked for OTLP even when none is set.
    /// Nil when OTLP is neither asked for nor configured, or `OTEL_SDK_DISABLED` is true.
    public static func fromEnvironment(
        _ env: [String: String], enabled: Bool, serviceVersion: String
    ) -> OTLPConfiguration? {
        if env["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return nil }
        if env["OTEL_TRACES_EXPORTER"]?.lowercased() == "none" { return nil }
        let endpoint: String
        if let traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !traces.isEmpty {
            endpoint = traces
        } else if let base = env["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty {
            endpoint = tracesURL(base: base)
        } else if enabled {
            endpoint = tracesURL(base: defaultBaseEndpoint)
        } else {
            return nil
        }
        let headers =
            parseList(env["OTEL_EXPORTER_OTLP_HEADERS"] ?? "").map { ($0.0.lowercased(), $0.1) }
            + parseList(env["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] ?? "").map { ($0.0.lowercased(), $0.1) }
        let compression = env["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"] ?? env["OTEL_EXPORTER_OTLP_COMPRESSION"]
        let timeoutMs = (env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"] ?? env["OTEL_EXPORTER_OTLP_TIMEOUT"]).flatMap(Int.init)
        return OTLPConfiguration(
            endpoint: endpoint, headers: headers,
            // Gzip unless told otherwise: LLM spans are repetitive text and compress well.
            gzip: compression?.lowercased() != "none",
            timeout: timeoutMs.map { $0 > 0 ? .milliseconds($0) : .seconds(3600) } ?? .seconds(10),
            resource: resource(env, serviceVersion: serviceVersion))
    }

    /// `base` plus `v1/traces`, keeping any path the base has.
    public static func tracesURL(base: String) -> String {
        base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
    }

    /// `service.name` from `OTEL_SERVICE_NAME`, which wins over `OTEL_RESOURCE_ATTRIBUTES`.
    public static func resource(_ env: [String: String], serviceVersion: String) -> [SpanAttribute] {
        var attributes = Attributes()
        attributes["service.name"] = .string("spanway")
        attributes["service.version"] = .string(serviceVersion)
        attributes["telemetry.sdk.name"] = .string("spanway")
        attributes["telemetry.sdk.language"] = .string("swift")
        attributes["telemetry.sdk.version"] = .string(serviceVersion)
        for (key, value) in parseList(env["OTEL_RESOURCE_ATTRIBUTES"] ?? "") {
            attributes[key] = .string(value)
        }
        if let name = env["OTEL_SERVICE_NAME"], !name.isEmpty {
            attributes["service.name"] = .string(name)
        }
        return attributes.list
    }

    /// `k1=v1,k2=v2` with percent-encoded keys and values; malformed members are skipped.
    public static func parseList(_ text: String) -> [(String, String)] {
        text.split(separator: ",").compactMap { member in
            guard let eq = member.firstIndex(of: "=") else { return nil }
            let key = percentDecode(member[..<eq].trimmingSpaces)
            let value = percentDecode(member[member.index(after: eq)...].trimmingSpaces)
            guard let key, let value, !key.isEmpty else { return nil }
            return (key, value)
        }
    }

    static func percentDecode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            if byte == UInt8(ascii: "%") {
                guard let hi = utf8.next(), let lo = utf8.next(),
                    let value = UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
