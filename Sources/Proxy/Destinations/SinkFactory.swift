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
        let includeContent = sink.captureContent
        switch sink.destination {
        case .otel(let destination, let headers):
            let endpoint = destination.hasSuffix("/v1/traces") ? destination : OTLPConfiguration.tracesURL(base: destination)
            return OTLPExporter(
                name: sink.name, configuration: otlp(endpoint: endpoint, headers: headers), client: client,
                serviceVersion: serviceVersion, includeContent: includeContent, logger: logger)
        case .langfuseOTel(let credentials):
            return OTLPExporter(
                name: sink.name,
                configuration: otlp(
                    endpoint: credentials.otlpTracesURL,
                    headers: [("authorization", credentials.authorization), ("x-langfuse-ingestion-version", "4")]),
                client: client, serviceVersion: serviceVersion, includeContent: includeContent,
                decoration: { span, request in
                    LangfuseAttributes.extra(for: span, in: request, includeContent: includeContent)
                }, logger: logger)
        case .langfuse(let credentials):
            return LangfuseIngestionExporter(
                name: sink.name, credentials: credentials, includeContent: includeContent, client: client,
                backoff: backoff, timeout: timeout, serviceVersion: serviceVersion, logger: logger)
        case .helicone(let baseURL, let apiKey):
            return HeliconeExporter(
                name: sink.name, baseURL: baseURL, apiKey: apiKey, includeContent: includeContent,
                client: client, backoff: backoff, timeout: timeout, logger: logger)
        case .sentry(let dsn, let environment, let release):
            guard let dsn = SentryDSN(dsn) else { throw .invalidDSN(sink.name) }
            return SentryExporter(
                name: sink.name, dsn: dsn, environment: environment, release: release, sdkVersion: serviceVersion,
                client: client, backoff: backoff, timeout: timeout, logger: logger)
        case .webhook(let url, let headers, let format):
            var events: Set<String> = []
            if sink.route.outcome != .failure { events.insert(WebhookExporter.successEvent) }
            if sink.route.outcome != .success { events.insert(WebhookExporter.failureEvent) }
            return WebhookExporter(
                name: sink.name, url: url, headers: headers, format: format, events: events,
                includeContent: includeContent, client: client, backoff: backoff, timeout: timeout, logger: logger)
        }
    }

    private func otlp(endpoint: String, headers: [(String, String)]) -> OTLPConfiguration {
        OTLPConfiguration(endpoint: endpoint, headers: headers, timeout: timeout, backoff: backoff, resource: resource)
    }
}
