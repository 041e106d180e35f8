import Synchronization
import TelemetryTesting
import Testing

@testable import Telemetry

func makeFinishedSpan(sampled: Bool = true, group: String = "g") -> FinishedSpan {
    FinishedSpanBuilder(requestID: "r", sampled: sampled)
        .summary { summary in
            summary.modelGroup = group
            summary.statusCode = 200
        }
        .build()
}

final class RecordingExporter: SpanExporter {
    let name = "recording"
    let batches = Mutex<[[FinishedSpan]]>([])
    let gate: AsyncStream<Void>?
    let delivered: Bool

    init(gate: AsyncStream<Void>? = nil, delivered: Bool = true) {
        self.gate = gate
        self.delivered = delivered
    }

    var failedAttempts: Int { delivered ? 0 : batches.withLock { $0.count } * 2 }

    func deliver(_ batch: [FinishedSpan]) async -> Int {
        if let gate { for await _ in gate { break } }
        batches.withLock { $0.append(batch) }
        return delivered ? batch.count : 0
    }

    var count: Int { batches.withLock { $0.reduce(0) { $0 + $1.count } } }
}

@Suite struct PipelineTests {
    @Test func boundedQueueRefusesWhenFullAndDrainsAfterClose() async {
        let queue = BoundedQueue<Int>(capacity: 2)
        #expect(queue.push(1) && queue.push(2))
        #expect(!queue.push(3))
        queue.close()
        #expect(!queue.push(4))
        #expect(await queue.next(upTo: 10) == [1, 2])
        #expect(await queue.next(upTo: 10) == nil)
    }

    @Test func emitNeverWaitsAndCountsDropsWhenTheQueueIsFull() async throws {
        let (gate, open) = AsyncStream<Void>.makeStream()
        let exporter = RecordingExporter(gate: gate)
        let pipeline = Pipeline(
            exporters: [exporter], configuration: PipelineConfiguration(queueCapacity: 3, maxBatchSize: 1, scheduleDelay: .zero))
        let run = Task { try await pipeline.run() }
        // The exporter is blocked on its first batch; the queue holds 3; the rest are dropped.
        // `emit` returns only once each span is queued or dropped: whether or not the exporter has
        // taken its first span yet, at most 3 + 1 were accepted.
        for _ in 0..<10 { pipeline.emit(makeFinishedSpan()) }
        let stats = try #require(pipeline.stats().first)
        #expect(stats.dropped >= 6 && stats.queueDepth <= 3)
        for _ in 0..<10 { open.yield() }
        pipeline.close()
        try await run.value
        let final = try #require(pipeline.stats().first)
        #expect(final.exported + final.dropped == 10)
        #expect(exporter.count == final.exported)
    }

    @Test func closeDeliversWhatIsQueued() async throws {
        let exporter = RecordingExporter()
        let pipeline = Pipeline(exporters: [exporter], configuration: PipelineConfiguration(scheduleDelay: .seconds(30)))
        let run = Task { try await pipeline.run() }
        for _ in 0..<5 { pipeline.emit(makeFinishedSpan()) }
        // Closing delivers what is queued: no need to wait for delivery first.
        pipeline.close()
        try await run.value
        #expect(exporter.count == 5)
        #expect(pipeline.stats().first?.exported == 5)
    }

    @Test func failedDeliveryIsCountedAsDroppedWithItsAttempts() async throws {
        let exporter = RecordingExporter(delivered: false)
        let pipeline = Pipeline(exporters: [exporter], configuration: PipelineConfiguration(scheduleDelay: .zero))
        let run = Task { try await pipeline.run() }
        pipeline.emit(makeFinishedSpan())
        // Closing delivers what is queued: no need to wait for delivery first.
        pipeline.close()
        try await run.value
        let stats = try #require(pipeline.stats().first)
        #expect(stats.dropped == 1 && stats.exported == 0 && stats.failedAttempts == 2)
    }

    @Test func unsampledRequestsSkipTraceExportersButReachObservers() async throws {
        final class Counter: SpanObserver {
            let seen = Atomic<Int>(0)
            func observe(_ span: FinishedSpan) { seen.add(1, ordering: .relaxed) }
        }
        let observer = Counter()
        let exporter = RecordingExporter()
        let pipeline = Pipeline(
            observers: [observer], exporters: [exporter], configuration: PipelineConfiguration(scheduleDelay: .zero))
        let run = Task { try await pipeline.run() }
        pipeline.emit(makeFinishedSpan(sampled: false))
        pipeline.emit(makeFinishedSpan(sampled: true))
        // Closing delivers what is queued: no need to wait for delivery first.
        pipeline.close()
        try await run.value
        #expect(observer.seen.load(ordering: .relaxed) == 2)
        #expect(exporter.count == 1)
    }
}

@Suite struct SinkRouteTests {
    func request(team: String?, alias: String? = nil, group: String = "g", status: Int = 200, teamOnly: Bool = false)
        -> FinishedSpan
    {
        makeFinishedSpan(group: group).with { summary in
            summary.caller = Caller(keyAlias: alias, teamID: team)
            summary.statusCode = status
            summary.teamDestinationsOnly = teamOnly
        }
    }

    @Test func routesMatchTeamAliasGroupAndOutcome() {
        #expect(SinkRoute.everything.matches(request(team: nil)))
        #expect(!SinkRoute.everything.matches(request(team: "a", teamOnly: true)), "a team that opted out")
        #expect(SinkRoute.team("a").matches(request(team: "a", teamOnly: true)))
        #expect(!SinkRoute.team("a").matches(request(team: "b")) && !SinkRoute.team("a").matches(request(team: nil)))
        #expect(!SinkRoute.team("a", outcome: .failure).matches(request(team: "a")))
        #expect(SinkRoute(outcome: .failure).matches(request(team: nil, status: 502)))
        let narrow = SinkRoute(keyAliases: ["prod"], modelGroups: ["g"])
        #expect(narrow.matches(request(team: nil, alias: "prod")) && !narrow.matches(request(team: nil, alias: "dev")))
        #expect(!narrow.matches(request(team: nil, alias: "prod", group: "h")))
    }

    @Test func destinationsComeAndGoWhileRunning() async throws {
        let pipeline = Pipeline(configuration: PipelineConfiguration(scheduleDelay: .zero))
        let run = Task { try await pipeline.run() }
        let a = RecordingExporter()
        #expect(pipeline.add(a, route: .team("a")))
        #expect(!pipeline.add(RecordingExporter(), route: .everything), "names are unique")
        pipeline.emit(request(team: "a"))
        pipeline.emit(request(team: "b"))
        for _ in 0..<500 where a.count == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(a.count == 1)
        pipeline.remove { $0 == "recording" }
        pipeline.emit(request(team: "a"))
        #expect(pipeline.destinationNames.isEmpty)
        pipeline.close()
        try await run.value
        #expect(a.count == 1)
        #expect(!pipeline.add(RecordingExporter()), "closed")
    }
}
