import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Telemetry

/// How a batch of payloads becomes request bodies: the `log_format` values of LiteLLM's generic API
/// callback (`litellm/integrations/generic_api/generic_api_callback.py`).
public enum WebhookFormat: String, Sendable {
    /// One POST whose body is a JSON array of the payloads (LiteLLM's default).
    case jsonArray = "json_array"
    /// One POST, one payload per line.
    case ndjson
    /// One POST per payload.
    case single

    public var contentType: String {
        self == .ndjson ? "application/x-ndjson" : "application/json"
    }

    /// The bodies to POST; none for no payloads.
    public func bodies(_ payloads: [JSONValue]) -> [[UInt8]] {
        guard !payloads.isEmpty else { return [] }
        switch self {
        case .jsonArray:
            return [JSONValue.array(payloads).encoded()]
        case .ndjson:
            // Each line is newline-terminated, as NDJSON asks; the writer escapes newlines in strings.
            var body: [UInt8] = []
            for payload in payloads {
                payload.write(into: &body)
                body.append(UInt8(ascii: "\n"))
            }
            return [body]
        case .single:
            return payloads.map { $0.encoded() }
        }
    }
}

/// LiteLLM's `generic_api` callback: each request as a `StandardLoggingPayload`, POSTed to a URL
/// in batches, so receivers built for LiteLLM work against Spanway unchanged.
public final class WebhookExporter: DeliveringExporter {
    public static let successEvent = "llm_api_success"
    public static let failureEvent = "llm_api_failure"

    public let name: String
    private let url: String
    private let headers: HTTPHeaders
    private let format: WebhookFormat
    private let events: Set<String>
    private let includeContent: Bool
    public let delivery: HTTPDelivery

    public init(
        name: String = "webhook", url: String, headers: [(String, String)] = [], format: WebhookFormat = .jsonArray,
        events: Set<String> = [WebhookExporter.successEvent, WebhookExporter.failureEvent],
        includeContent: Bool = false, client: HTTPClient = .shared, backoff: Backoff = Backoff(),
        timeout: Duration = .seconds(10), logger: Logger
    ) {
        self.name = name
        self.url = url
        var httpHeaders = HTTPHeaders()
        httpHeaders.add(name: "content-type", value: format.contentType)
        for (key, value) in headers {
            // A configured content type replaces ours rather than sending two.
            if key.lowercased() == "content-type" {
                httpHeaders.replaceOrAdd(name: "content-type", value: value)
            } else {
                httpHeaders.add(name: key, value: value)
            }
        }
        self.headers = httpHeaders
        self.format = format
        self.events = events
        self.includeContent = includeContent
        self.delivery = HTTPDelivery(sink: name, client: client, backoff: backoff, timeout: timeout, logger: logger)
    }

    /// The event type LiteLLM would log the request under.
    public static func eventType(_ request: FinishedSpan) -> String {
        request.summary.succeeded ? successEvent : failureEvent
    }

    /// Requests of an event type this webhook does not take count as delivered: they were never its to send.
    public func deliver(_ batch: [FinishedSpan]) async -> Int {
        let wanted = batch.filter { events.contains(Self.eventType($0)) }
        let skipped = batch.count - wanted.count
        let payloads = wanted.map { StandardLoggingPayload.make($0, includeContent: includeContent) }
        let bodies = format.bodies(payloads)
        if format != .single {
            guard let body = bodies.first else { return skipped }
            return await post(body) ? batch.count : skipped
        }
        let arrived = await countDelivered(bodies) { await self.post($0) }
        return skipped + arrived
    }

    private func post(_ body: [UInt8]) async -> Bool {
        await delivery.post(url: url, headers: headers, body: ByteBuffer(bytes: body))
    }
}
