import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Telemetry

/// POSTs a payload to one destination, retrying the failures a sender may retry: connection
/// errors, timeouts, and 429/502/503/504, with backoff and jitter and `Retry-After` honoured.
/// Logs name the sink, never the URL or headers, which may carry credentials.
public final class HTTPDelivery: Sendable {
    public static let retryableStatuses: Set<UInt> = [429, 502, 503, 504]

    let sink: String
    let client: HTTPClient
    let backoff: Backoff
    let timeout: Duration
    let logger: Logger
    private let draining = Atomic<Bool>(false)

    public init(sink: String, client: HTTPClient, backoff: Backoff, timeout: Duration, logger: Logger) {
        self.sink = sink
        self.client = client
        self.backoff = backoff
        self.timeout = timeout
        self.logger = logger
    }

    /// From now on each payload gets one attempt, so shutdown is not held up by a dead destination.
    public func stopRetrying() {
        draining.store(true, ordering: .relaxed)
    }

    public func post(url: String, headers: HTTPHeaders, body: ByteBuffer) async -> ExportOutcome {
        var failures = 0
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers = headers
            request.body = .bytes(body)
            var retryAfter: Duration?
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                // Read (and bound) the body so the connection can be reused.
                _ = try? await response.body.collect(upTo: 4 * 1024 * 1024)
                if (200..<300).contains(response.status.code) {
                    return ExportOutcome(delivered: true, failedAttempts: failures)
                }
                failures += 1
                guard Self.retryableStatuses.contains(response.status.code) else {
                    logger.warning(
                        "sink rejected a batch", metadata: ["sink": "\(sink)", "status": "\(response.status.code)"])
                    return ExportOutcome(delivered: false, failedAttempts: failures)
                }
                retryAfter = response.headers.first(name: "retry-after").flatMap { RetryAfter.parse($0) }
            } catch {
                failures += 1
                logger.debug("sink delivery failed", metadata: ["sink": "\(sink)", "error": "\(type(of: error))"])
            }
            guard failures <= backoff.maxRetries, !draining.load(ordering: .relaxed) else {
                logger.warning("sink gave up on a batch", metadata: ["sink": "\(sink)", "attempts": "\(failures)"])
                return ExportOutcome(delivered: false, failedAttempts: failures)
            }
            do {
                try await Task.sleep(for: backoff.delay(beforeRetry: failures, retryAfter: retryAfter))
            } catch {
                return ExportOutcome(delivered: false, failedAttempts: failures)
            }
        }
    }
}
