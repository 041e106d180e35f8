import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Telemetry

/// Logs finished requests to Helicone's async log API, one POST per request (the API takes no
/// batches), a bounded number at a time.
public final class HeliconeExporter: DeliveringExporter {
    public let name: String
    private let baseURL: String
    private let headers: HTTPHeaders
    private let includeContent: Bool
    public let delivery: HTTPDelivery
    private let logger: Logger

    public init(
        name: String = "helicone", baseURL: String = "https://api.worker.helicone.ai", apiKey: String,
        includeContent: Bool = false, client: HTTPClient = .shared, backoff: Backoff = Backoff(),
        timeout: Duration = .seconds(10), logger: Logger
    ) {
        self.name = name
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        self.baseURL = String(base)
        var headers = HTTPHeaders()
        headers.add(name: "authorization", value: "Bearer \(apiKey)")
        headers.add(name: "content-type", value: "application/json")
        self.headers = headers
        self.includeContent = includeContent
        self.delivery = HTTPDelivery(sink: name, client: client, backoff: backoff, timeout: timeout, logger: logger)
        self.logger = logger
    }

    public func deliver(_ batch: [FinishedSpan]) async -> Int {
        await countDelivered(batch) { await self.send($0) }
    }

    private func send(_ request: FinishedSpan) async -> Bool {
        let body = HeliconeLog.body(for: request, includeContent: includeContent).encoded()
        let outcome = await delivery.send(
            url: baseURL + HeliconeLog.path(for: request), headers: headers, body: ByteBuffer(bytes: body))
        guard case .delivered(_, let answer) = outcome else { return false }
        // Helicone answers 200 even when it failed to store the log, saying so in `{"error":…}`.
        if let error = (try? JSONParser.parse(answer.readableBytesView))?["error"], !error.isNull {
            logger.warning("sink refused a request", metadata: ["sink": "\(name)"])
            return false
        }
        return true
    }
}
