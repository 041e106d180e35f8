import Telemetry

/// An exporter that sends through one `HTTPDelivery`: the delivery's failed attempts are the
/// exporter's, and shutdown stops its retries so a dead destination cannot hold the process.
public protocol DeliveringExporter: SpanExporter {
    var delivery: HTTPDelivery { get }
}

extension DeliveringExporter {
    public var failedAttempts: Int { delivery.failedAttempts }

    public func beginShutdown() {
        delivery.stopRetrying()
    }
}
