import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Telemetry

/// How a POST ended, after any retries.
public enum DeliveryOutcome: Sendable {
    /// A 2xx answer, with its body (bounded) for destinations that report per-item results.
    case delivered(status: UInt, body: ByteBuffer)
    /// A non-retryable answer (e.g. 400, 401, 413): the payload will never be taken.
    case rejected(status: UInt)
    /// Retries ran out, or shutdown began, while the destination kept failing.
    case gaveUp

    public var succeeded: Bool {
        if case .delivered = self { return true }
        return false
    }
}

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
    private let failures = Atomic<Int>(0)

    /// Failed attempts so far, over the delivery's lifetime.
    public var failedAttempts: Int { failures.load(ordering: .relaxed) }

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

    /// True when the destination took the payload.
    public func post(url: String, headers: HTTPHeaders, body: ByteBuffer) async -> Bool {
        await send(url: url, headers: headers, body: body).succeeded
    }

    /// POSTs with retries. `inspect` sees every answer's status and headers (rate-limit headers
    /// come on successes too) and may override the wait before the next try.
    public func send(
        url: String, headers: HTTPHeaders, body: ByteBuffer,
        inspect: (@Sendable (UInt, HTTPHeaders) -> Duration?)? = nil
    ) async -> DeliveryOutcome {
        var attempt = 0
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers = headers
            request.body = .bytes(body)
            var retryAfter: Duration?
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                // Read (and bound) the body so the connection can be reused.
                let answer = (try? await response.body.collect(upTo: 4 * 1024 * 1024)) ?? ByteBuffer()
                let asked = inspect?(response.status.code, response.headers)
                if (200..<300).contains(response.status.code) { return .delivered(status: response.status.code, body: answer) }
                failures.add(1, ordering: .relaxed)
                if (300..<400).contains(response.status.code) {
                    // Clients are built not to follow redirects (they would re-send the sink's
                    // credentials to wherever the answer points), so a redirect is a failed delivery.
                    logger.warning(
                        "sink answered with a redirect, which is not followed",
                        metadata: ["sink": "\(sink)", "status": "\(response.status.code)"])
                    return .rejected(status: response.status.code)
                }
                guard Self.retryableStatuses.contains(response.status.code) else {
                    logger.warning(
                        "sink rejected a batch", metadata: ["sink": "\(sink)", "status": "\(response.status.code)"])
                    return .rejected(status: response.status.code)
                }
                retryAfter =
                    asked
                    ?? response.headers.first(name: "retry-after").flatMap {
                        RetryAfter.parse($0, nowSeconds: Int(backoff.clock.nowSeconds()))
                    }
            } catch {
                failures.add(1, ordering: .relaxed)
                logger.debug("sink delivery failed", metadata: ["sink": "\(sink)", "error": "\(type(of: error))"])
            }
            attempt += 1
            guard attempt <= backoff.maxRetries, !draining.load(ordering: .relaxed) else {
                logger.warning("sink gave up on a batch", metadata: ["sink": "\(sink)", "attempts": "\(attempt)"])
                return .gaveUp
            }
            guard await pause(backoff.delay(beforeRetry: attempt, retryAfter: retryAfter)) else { return .gaveUp }
        }
    }

    /// Waits before a retry; false when shutdown began or the task was cancelled meanwhile.
    func pause(_ duration: Duration) async -> Bool {
        await backoff.wait.body(duration) { self.draining.load(ordering: .relaxed) }
    }
}
