import AsyncHTTPClient
import CompressNIO
import Logging
import NIOCore
import NIOHTTP1
import Telemetry

/// Sends finished requests as OTLP/HTTP protobuf (`ExportTraceServiceRequest`), gzip-compressed,
/// in batches assembled by the pipeline.
public final class OTLPExporter: DeliveringExporter {
    public let name: String
    /// A trace backend shows an evaluation's item traces beside the requests they contain.
    public var receivesEvaluations: Bool { true }
    private let configuration: OTLPConfiguration
    private let encoder: OTLPEncoder
    public let delivery: HTTPDelivery

    public init(
        name: String = "otlp", configuration: OTLPConfiguration, client: HTTPClient = .shared,
        serviceVersion: String, includeContent: Bool = true,
        decoration: OTLPEncoder.Decoration? = nil, logger: Logger
    ) {
        self.name = name
        self.configuration = configuration
        self.encoder = OTLPEncoder(
            resource: configuration.resource, scopeName: "spanway", scopeVersion: serviceVersion,
            includeContent: includeContent, decoration: decoration)
        self.delivery = HTTPDelivery(
            sink: name, client: client, backoff: configuration.backoff, timeout: configuration.timeout,
            logger: logger)
    }

    public func deliver(_ batch: [FinishedSpan]) async -> Int {
        var body = ByteBuffer(bytes: encoder.encode(batch))
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/x-protobuf")
        headers.add(name: "user-agent", value: "spanway-otlp-exporter/\(encoder.scopeVersion)")
        for (key, value) in configuration.headers { headers.add(name: key, value: value) }
        if configuration.gzip, let compressed = try? body.compress(with: .gzip()) {
            body = compressed
            headers.add(name: "content-encoding", value: "gzip")
        }
        return await delivery.post(url: configuration.endpoint, headers: headers, body: body) ? batch.count : 0
    }
}
