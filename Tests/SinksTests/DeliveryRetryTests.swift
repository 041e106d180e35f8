import Logging
import Synchronization
import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// Retries against a real receiver: the wait a `Retry-After` asks for is the wait taken, and a
/// destination that keeps failing costs the batch, counted. Waits are recorded, not slept, so no
/// test spends the seconds it checks.
@Suite(.serialized) struct DeliveryRetryTests {
    let logger = Logger(label: "test")

    /// Records each wait a sender chose and returns at once.
    final class Waits: Sendable {
        private let recorded = Mutex<[Duration]>([])
        var all: [Duration] { recorded.withLock { $0 } }

        func backoff(initial: Duration, maxRetries: Int, clock: any GatewayClock = SystemClock()) -> Backoff {
            var backoff = Backoff(initial: initial, maximum: .seconds(600), maxRetries: maxRetries)
            backoff.clock = clock
            backoff.wait = RetryWait { duration, _ in
                self.recorded.withLock { $0.append(duration) }
                return true
            }
            return backoff
        }
    }

    func request() -> FinishedSpan {
        FinishedSpanBuilder().attempt().summary { $0.statusCode = 200 }.build()
    }

    @Test(.timeLimit(.minutes(3))) func aRetryAfterInSecondsIsTheWaitBeforeTheRetry() async throws {
        let server = try RecordingHTTPServer(responses: [.status(429, headers: ["Retry-After": "1"]), .ok])
        defer { server.stop() }
        let waits = Waits()
        // Backoff alone would wait 3.5 to 7 s: only the header gives 1 s.
        let exporter = OTLPExporter(
            configuration: OTLPConfiguration(
                endpoint: "http://127.0.0.1:\(server.port)/v1/traces", backoff: waits.backoff(initial: .seconds(7), maxRetries: 3)
            ),
            serviceVersion: "test", logger: logger)
        #expect(await exporter.deliver([request(), request()]) == 2)
        #expect(waits.all == [.seconds(1)])
        #expect(server.requests.count == 2)
        #expect(exporter.failedAttempts == 1)
    }

    @Test(.timeLimit(.minutes(3))) func aRetryAfterDateIsCountedFromNow() async throws {
        // The HTTP-date example of RFC 9110 (https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7),
        // 784111777 in Unix time; "now" is 90 s before it.
        let server = try RecordingHTTPServer(responses: [
            .status(503, headers: ["Retry-After": "Sun, 06 Nov 1994 08:49:37 GMT"]), .ok,
        ])
        defer { server.stop() }
        let waits = Waits()
        let now = ManualClock(seconds: 784_111_777 - 90)
        let hook = WebhookExporter(
            url: "http://127.0.0.1:\(server.port)/hook", headers: [], format: .jsonArray,
            backoff: waits.backoff(initial: .seconds(7), maxRetries: 3, clock: now), timeout: .seconds(5), logger: logger)
        #expect(await hook.deliver([request()]) == 1)
        #expect(waits.all == [.seconds(90)])
        #expect(server.requests.count == 2)
    }

    @Test(.timeLimit(.minutes(3))) func afterMaxRetriesTheBatchIsDroppedAndCounted() async throws {
        let server = try RecordingHTTPServer(responses: [.status(503, headers: ["Retry-After": "2"])])
        defer { server.stop() }
        let waits = Waits()
        let hook = WebhookExporter(
            name: "billing", url: "http://127.0.0.1:\(server.port)/hook", headers: [], format: .jsonArray,
            backoff: waits.backoff(initial: .seconds(7), maxRetries: 2), timeout: .seconds(5), logger: logger)
        let pipeline = Pipeline(configuration: PipelineConfiguration(maxBatchSize: 8, scheduleDelay: .zero))
        pipeline.add(hook, sampledOnly: false)
        let run = Task { try await pipeline.run() }
        for _ in 0..<3 { pipeline.emit(request()) }
        // Shutdown would stop the retries, so the pipeline closes only once the batch is settled.
        var stats = try #require(pipeline.stats().first)
        while stats.exported + stats.dropped < 3 {
            try await Task.sleep(for: .milliseconds(5))
            stats = try #require(pipeline.stats().first)
        }
        pipeline.close()
        try await run.value
        #expect(server.requests.count == 3, "one try and two retries, then no more")
        #expect(waits.all == [.seconds(2), .seconds(2)])
        stats = try #require(pipeline.stats().first { $0.sink == "billing" })
        #expect(stats.exported == 0)
        #expect(stats.dropped == 3)
        #expect(stats.failedAttempts == 3)
    }
}
