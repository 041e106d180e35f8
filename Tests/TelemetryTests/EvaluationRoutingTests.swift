import Synchronization
import TelemetryTesting
import Testing

@testable import Telemetry

/// Evaluation traces go only to the exporters that ask for them; requests go everywhere.
@Suite struct EvaluationRoutingTests {
    /// An exporter that keeps what it is given; `receivesEvaluations` as told.
    final class KeepingExporter: SpanExporter {
        let name: String
        let wantsEvaluations: Bool?
        private let kept = Mutex<[FinishedSpan]>([])

        init(name: String, wantsEvaluations: Bool?) {
            self.name = name
            self.wantsEvaluations = wantsEvaluations
        }

        var receivesEvaluations: Bool { wantsEvaluations ?? false }

        func deliver(_ batch: [FinishedSpan]) async -> Int {
            kept.withLock { $0 += batch }
            return batch.count
        }

        var kinds: [FinishedSpan.Kind] { kept.withLock { $0.map(\.kind) } }
    }

    /// An exporter that does not say: the protocol's default applies.
    final class DefaultExporter: SpanExporter {
        let name = "default"
        private let count = Atomic<Int>(0)

        func deliver(_ batch: [FinishedSpan]) async -> Int {
            count.add(batch.count, ordering: .relaxed)
            return batch.count
        }

        var delivered: Int { count.load(ordering: .relaxed) }
    }

    final class CountingObserver: SpanObserver {
        private let seen = Mutex<[FinishedSpan.Kind]>([])
        func observe(_ span: FinishedSpan) { seen.withLock { $0.append(span.kind) } }
        var kinds: [FinishedSpan.Kind] { seen.withLock { $0 } }
    }

    /// An item's trace: a root span and two model calls under it.
    static func evaluation() -> FinishedSpan {
        let request = FinishedSpanBuilder(requestID: "eval-1/q1", operation: "evaluation", name: "evaluate q1")
            .attempt(name: "chat small", status: .ok)
            .attempt(name: "chat large", status: .error(message: "boom"))
        return FinishedSpan(server: request.server, attempts: request.attempts, summary: request.summary, kind: .evaluation)
    }

    static func request() -> FinishedSpan {
        FinishedSpanBuilder(requestID: "req-1").attempt().summary { $0.statusCode = 200 }.build()
    }

    @Test func evaluationsReachOnlyExportersThatAskAndNeverObservers() async throws {
        let traces = KeepingExporter(name: "traces", wantsEvaluations: true)
        let logs = KeepingExporter(name: "logs", wantsEvaluations: false)
        let unsaid = DefaultExporter()
        let observer = CountingObserver()
        let pipeline = Pipeline(
            observers: [observer], exporters: [traces, logs, unsaid],
            configuration: PipelineConfiguration(scheduleDelay: .zero))
        let run = Task { try await pipeline.run() }
        pipeline.emit(Self.evaluation())
        pipeline.emit(Self.request())
        pipeline.emit(Self.evaluation())
        // Closing delivers what is queued.
        pipeline.close()
        try await run.value

        #expect(traces.kinds == [.evaluation, .request, .evaluation])
        #expect(logs.kinds == [.request])
        #expect(unsaid.delivered == 1)
        #expect(observer.kinds == [.request])
        let stats = Dictionary(uniqueKeysWithValues: pipeline.stats().map { ($0.sink, $0) })
        // Skipping an evaluation is not a drop.
        #expect(stats["logs"]?.dropped == 0 && stats["default"]?.dropped == 0)
        #expect(stats["traces"]?.exported == 3)
    }

    @Test func evaluationsGoWithTheSuccessesNeverToFailureOnlySinks() async throws {
        // An item's trace has no status code of its own: it carries every call's scores.
        #expect(SinkRoute(outcome: .success).matches(Self.evaluation()))
        #expect(!SinkRoute(outcome: .failure).matches(Self.evaluation()))
        #expect(SinkRoute(outcome: .any).matches(Self.evaluation()))

        let successes = KeepingExporter(name: "successes", wantsEvaluations: true)
        let failures = KeepingExporter(name: "failures", wantsEvaluations: true)
        let pipeline = Pipeline(configuration: PipelineConfiguration(scheduleDelay: .zero))
        pipeline.add(successes, route: SinkRoute(outcome: .success))
        pipeline.add(failures, route: SinkRoute(outcome: .failure))
        let run = Task { try await pipeline.run() }
        pipeline.emit(Self.evaluation())
        pipeline.emit(Self.request().with { $0.statusCode = 500 })
        pipeline.close()
        try await run.value
        #expect(successes.kinds == [.evaluation])
        #expect(failures.kinds == [.request])
    }

    @Test func theDefaultIsToReceiveNoEvaluations() {
        #expect(!DefaultExporter().receivesEvaluations)
    }

    @Test func anUnsampledEvaluationReachesNoTraceExporter() async throws {
        let traces = KeepingExporter(name: "traces", wantsEvaluations: true)
        let pipeline = Pipeline(exporters: [traces], configuration: PipelineConfiguration(scheduleDelay: .zero))
        let run = Task { try await pipeline.run() }
        let unsampled = FinishedSpanBuilder(name: "evaluate q1", sampled: false).attempt()
        pipeline.emit(
            FinishedSpan(server: unsampled.server, attempts: unsampled.attempts, summary: unsampled.summary, kind: .evaluation))
        pipeline.close()
        try await run.value
        #expect(traces.kinds.isEmpty)
    }

    @Test func anEvaluationHasNoAnsweringAttempt() {
        // Its calls are separate answers, none of them "the" answer; a request's is its last good attempt.
        #expect(Self.evaluation().answering == nil)
        let request = Self.request()
        #expect(request.answering?.spanID == request.attempts.last?.spanID)
    }
}
