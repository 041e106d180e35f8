import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Telemetry

/// Reports failed requests to Sentry, one envelope per request, a few in flight at a time.
///
/// Rate limits are honoured the way Sentry's own SDKs honour them: once an answer says error
/// events are limited, events are dropped without being sent until the limit has passed, because
/// sending them anyway only earns more 429s and Sentry would discard them.
public final class SentryExporter: DeliveringExporter {
    public let name: String
    private let dsn: SentryDSN
    private let environment: String
    private let release: String?
    private let sdkVersion: String
    public let delivery: HTTPDelivery
    private let logger: Logger
    private let url: String
    private let headers: HTTPHeaders
    private let limitedUntil = Mutex<ContinuousClock.Instant?>(nil)

    public init(
        name: String = "sentry", dsn: SentryDSN, environment: String = "production", release: String? = nil,
        sdkVersion: String, client: HTTPClient = .shared, backoff: Backoff = Backoff(),
        timeout: Duration = .seconds(10), logger: Logger
    ) {
        self.name = name
        self.dsn = dsn
        self.environment = environment
        self.release = release
        self.sdkVersion = sdkVersion
        self.delivery = HTTPDelivery(sink: name, client: client, backoff: backoff, timeout: timeout, logger: logger)
        self.logger = logger
        self.url = dsn.envelopeURL
        let clientName = "\(SentryEnvelope.sdkName)/\(sdkVersion)"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/x-sentry-envelope")
        headers.add(name: "x-sentry-auth", value: dsn.authHeader(client: clientName))
        headers.add(name: "user-agent", value: clientName)
        self.headers = headers
    }

    /// Succeeded requests count as delivered: they are not Sentry's to send.
    public func deliver(_ batch: [FinishedSpan]) async -> Int {
        await countDelivered(batch) { await self.send($0) }
    }

    /// True when Sentry must not be sent error events now.
    var isRateLimited: Bool {
        limitedUntil.withLock { until in until.map { ContinuousClock.now < $0 } ?? false }
    }

    /// Records a limit from an answer; a later, shorter limit never shortens one already in force.
    func noteRateLimit(_ wait: Duration) {
        let until = ContinuousClock.now + wait
        limitedUntil.withLock { current in
            if let existing = current, existing >= until { return }
            current = until
        }
    }

    private func send(_ request: FinishedSpan) async -> Bool {
        if request.summary.succeeded { return true }
        if isRateLimited {
            logger.debug("sentry rate limit in force; dropping an event", metadata: ["sink": "\(name)"])
            return false
        }
        guard
            let envelope = SentryEnvelope.encode(
                request, dsn: dsn, environment: environment, release: release, sdkVersion: sdkVersion,
                sentAtNanos: WallClock.nowNanos(), eventID: SentryEnvelope.newEventID())
        else { return true }
        let outcome = await delivery.send(url: url, headers: headers, body: ByteBuffer(bytes: envelope)) {
            [self] status, headers in
            guard let wait = SentryRateLimits.errorWait(status: status, headers: headers) else { return nil }
            noteRateLimit(wait)
            if !(200..<300).contains(status) {
                // Sentry's SDKs drop a rate-limited event rather than retry it. Cancelling this child
                // task makes HTTPDelivery's wait before the retry end at once, so it gives up now.
                withUnsafeCurrentTask { $0?.cancel() }
            }
            return wait
        }
        switch outcome {
        case .delivered:
            return true
        case .rejected(let status):
            if status == 413 {
                logger.warning("sentry refused an event as too large; dropped", metadata: ["sink": "\(name)"])
            }
            return false
        case .gaveUp:
            return false
        }
    }
}
