import AsyncHTTPClient
import Logging
import Sinks
import Telemetry

/// Turns sink settings into running exporters. A destination that cannot be built (a malformed
/// DSN) is reported and skipped, never fatal to the requests.
public struct SinkFactory: Sendable {
    let client: HTTPClient
    let serviceVersion: String
    /// `OTEL_*` resource attributes, shared by every OTLP destination.
    let resource: [SpanAttribute]
    let logger: Logger
    var backoff = Backoff()
    var timeout: Duration = .seconds(10)

    public init(client: HTTPClient, serviceVersion: String, resource: [SpanAttribute], logger: Logger) {
        self.client = client
        self.serviceVersion = serviceVersion
        self.resource = resource
        self.logger = logger
    }

    public enum Failure: Error, CustomStringConvertible {
        case invalidDSN(String)
        public var description: String {
            switch self {
            case .invalidDSN(let sink): "sink '\(sink)': the Sentry DSN is not valid"
            }
        }
    }

    func exporter(for sink: SinkConfig) throws(Failure) -> any SpanExporter {
        let exporter: any SpanExporter
        switch sink.kind {
        case .otel:
            let endpoint = sink.destination.hasSuffix("/v1/traces") ? sink.destination : OTLPConfiguration.tracesURL(base: sink.destination)
            exporter = OTLPExporter(
                name: sink.name, configuration: otlp(endpoint: endpoint, headers: sink.headers), client: client,
                serviceVersion: serviceVersion, includeContent: sink.captureContent, logger: logger)
        case .langfuseOTel:
            let credentials = langfuse(sink)
            let includeContent = sink.captureContent
            exporter = OTLPExporter(
                name: sink.name,
                configuration: otlp(
                    endpoint: credentials.otlpTracesURL,
                    headers: [("authorization", credentials.authorization), ("x-langfuse-ingestion-version", "4")]),
                client: client, serviceVersion: serviceVersion, includeContent: includeContent,
                decoration: { span, request in
                    LangfuseAttributes.extra(for: span, in: request, includeContent: includeContent)
                }, logger: logger)
        case .langfuse:
            exporter = LangfuseIngestionExporter(
                name: sink.name, credentials: langfuse(sink), includeContent: sink.captureContent, client: client,
                backoff: backoff, timeout: timeout, serviceVersion: serviceVersion, logger: logger)
        case .helicone:
            exporter = HeliconeExporter(
                name: sink.name, baseURL: sink.destination, apiKey: sink.secretKey ?? "", includeContent: sink.captureContent,
                client: client, backoff: backoff, timeout: timeout, logger: logger)
        case .sentry:
            guard let dsn = SentryDSN(sink.destination) else { throw .invalidDSN(sink.name) }
            exporter = SentryExporter(
                name: sink.name, dsn: dsn, environment: sink.environment, release: sink.release, sdkVersion: serviceVersion,
                client: client, backoff: backoff, timeout: timeout, logger: logger)
        case .webhook:
            var events: Set<String> = []
            if sink.route.outcome != .failure { events.insert(WebhookExporter.successEvent) }
            if sink.route.outcome != .success { events.insert(WebhookExporter.failureEvent) }
            exporter = WebhookExporter(
                name: sink.name, url: sink.destination, headers: sink.headers,
                format: WebhookFormat(rawValue: sink.format) ?? .jsonArray, events: events,
                includeContent: sink.captureContent, client: client, backoff: backoff, timeout: timeout, logger: logger)
        }
        return exporter
    }

    private func otlp(endpoint: String, headers: [(String, String)]) -> OTLPConfiguration {
        OTLPConfiguration(endpoint: endpoint, headers: headers, timeout: timeout, backoff: backoff, resource: resource)
    }

    private func langfuse(_ sink: SinkConfig) -> LangfuseCredentials {
        LangfuseCredentials(host: sink.destination, publicKey: sink.publicKey ?? "", secretKey: sink.secretKey ?? "")
    }
}
