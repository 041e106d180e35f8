import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Telemetry

/// Sends finished requests to Langfuse's batch ingestion API, for Langfuse deployments (or
/// preferences) that do not take OTLP. Delivery is counted per request: one whose events were all
/// taken arrived, whatever happened to the rest of the batch.
public final class LangfuseIngestionExporter: DeliveringExporter {
    public let name: String
    /// Evaluation traces arrive as traces with their scores (`score-create`).
    public var receivesEvaluations: Bool { true }
    private let url: String
    private let headers: HTTPHeaders
    private let includeContent: Bool
    private let backoff: Backoff
    public let delivery: HTTPDelivery
    private let logger: Logger
    private let partialFailures = Atomic<Int>(0)

    public init(
        name: String = "langfuse", credentials: LangfuseCredentials, includeContent: Bool = false,
        client: HTTPClient = .shared, backoff: Backoff = Backoff(), timeout: Duration = .seconds(10),
        serviceVersion: String = "0", logger: Logger
    ) {
        self.name = name
        self.url = credentials.ingestionURL
        var headers = HTTPHeaders()
        headers.add(name: "authorization", value: credentials.authorization)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "x-langfuse-sdk-name", value: "spanway")
        headers.add(name: "x-langfuse-sdk-version", value: serviceVersion)
        headers.add(name: "x-langfuse-public-key", value: credentials.publicKey)
        self.headers = headers
        self.includeContent = includeContent
        self.backoff = backoff
        self.delivery = HTTPDelivery(sink: name, client: client, backoff: backoff, timeout: timeout, logger: logger)
        self.logger = logger
    }

    /// Transport failures plus POSTs whose 207 answer refused some event.
    public var failedAttempts: Int { delivery.failedAttempts + partialFailures.load(ordering: .relaxed) }

    public func deliver(_ batch: [FinishedSpan]) async -> Int {
        guard !batch.isEmpty else { return 0 }
        let events = LangfuseIngestion.encodedEvents(batch, includeContent: includeContent)
        let (delivered, refused) = await LangfuseIngestion.deliver(
            events, requests: batch.count, maxRetries: backoff.maxRetries,
            post: { body in await self.post(body) },
            pause: { round in await self.delivery.pause(self.backoff.delay(beforeRetry: round)) })
        partialFailures.add(refused, ordering: .relaxed)
        if delivered < batch.count {
            // Counts only: refusal messages may quote event content.
            logger.warning(
                "sink lost requests", metadata: ["sink": "\(name)", "lost": "\(batch.count - delivered)"])
        }
        return delivered
    }

    private func post(_ body: [UInt8]) async -> LangfuseIngestion.PostResult {
        switch await delivery.send(url: url, headers: headers, body: ByteBuffer(bytes: body)) {
        case .delivered(let status, let answer): .answered(status: status, body: Array(answer.readableBytesView))
        case .rejected, .gaveUp: .failed
        }
    }
}
