import ServiceLifecycle
import Synchronization

/// A sink that does I/O: fed through its own bounded queue, in batches, off the request path.
public protocol SpanExporter: Sendable {
    var name: String { get }
    /// Delivers a batch, retrying as the destination allows, and says how many of its requests
    /// arrived; the rest count as dropped (all of them for a batch given up on, some for
    /// destinations that take items one by one: Langfuse's 207, one POST per request).
    func deliver(_ batch: [FinishedSpan]) async -> Int
    /// Delivery attempts that have failed so far (each retry counts), read live for `/metrics`.
    var failedAttempts: Int { get }
    /// Called when the pipeline stops accepting spans: finish quickly, retry no more.
    func beginShutdown()
    /// Called after the last batch.
    func shutdown() async
    /// Whether evaluation traces (`FinishedSpan.Kind.evaluation`) reach this sink: trace
    /// backends want them, request logs (Helicone, webhooks, Sentry) do not.
    var receivesEvaluations: Bool { get }
}

extension SpanExporter {
    public var receivesEvaluations: Bool { false }
    public var failedAttempts: Int { 0 }
    public func beginShutdown() {}
    public func shutdown() async {}
}

/// A sink that updates in-memory state in place (Prometheus). It must never block.
public protocol SpanObserver: Sendable {
    func observe(_ span: FinishedSpan)
}

public struct PipelineConfiguration: Sendable {
    public var queueCapacity: Int
    public var maxBatchSize: Int
    /// How long a partial batch waits for company before it is sent.
    public var scheduleDelay: Duration

    public init(queueCapacity: Int = 2048, maxBatchSize: Int = 512, scheduleDelay: Duration = .seconds(1)) {
        self.queueCapacity = queueCapacity
        self.maxBatchSize = maxBatchSize
        self.scheduleDelay = scheduleDelay
    }
}

/// Delivery counters of one exporter, for `/metrics`.
public struct SinkStats: Sendable, Equatable {
    public var sink: String
    /// Requests delivered.
    public var exported: Int
    /// Delivery attempts that failed (a retried batch counts once per failed attempt).
    public var failedAttempts: Int
    /// Requests lost: refused by a full queue, or given up on after retries.
    public var dropped: Int
    public var queueDepth: Int

    public init(sink: String, exported: Int, failedAttempts: Int, dropped: Int, queueDepth: Int) {
        self.sink = sink
        self.exported = exported
        self.failedAttempts = failedAttempts
        self.dropped = dropped
        self.queueDepth = queueDepth
    }
}

/// Fans each finished request out to every sink. `emit` never waits: observers update in place,
/// exporters get the span through their own bounded queue, and a full queue drops and counts.
/// Destinations can be added and removed while running (a team's own sinks, set via the admin API).
public final class Pipeline: Service, Sendable {
    private struct State {
        var lanes: [Lane] = []
        var running = false
        var closed = false
    }

    private let observers: [any SpanObserver]
    private let state = Mutex(State())
    private let started: AsyncStream<Lane>
    private let starter: AsyncStream<Lane>.Continuation
    private let configuration: PipelineConfiguration

    public init(
        observers: [any SpanObserver] = [], exporters: [any SpanExporter] = [],
        configuration: PipelineConfiguration = PipelineConfiguration()
    ) {
        self.observers = observers
        self.configuration = configuration
        (started, starter) = AsyncStream<Lane>.makeStream()
        for exporter in exporters { add(exporter) }
    }

    public func emit(_ span: FinishedSpan) {
        if span.kind == .request {
            for observer in observers { observer.observe(span) }
        }
        for lane in state.withLock({ $0.lanes }) where lane.accepts(span) {
            lane.offer(span)
        }
    }

    /// Adds a destination with its own queue; it starts delivering at once if the pipeline runs.
    /// A trace sink (`sampledOnly`) sees only sampled requests; a logging sink sees every one.
    /// False when the pipeline has been closed or a destination of that name exists.
    @discardableResult
    public func add(_ exporter: any SpanExporter, route: SinkRoute = .everything, sampledOnly: Bool = true) -> Bool {
        let lane = Lane(exporter: exporter, route: route, sampledOnly: sampledOnly, capacity: configuration.queueCapacity)
        let added = state.withLock { state -> Bool in
            guard !state.closed, !state.lanes.contains(where: { $0.exporter.name == exporter.name }) else { return false }
            state.lanes.append(lane)
            return true
        }
        if added { starter.yield(lane) }
        return added
    }

    /// Stops feeding the named destinations; what they hold is still delivered, then they end.
    public func remove(where shouldRemove: (String) -> Bool) {
        let removed = state.withLock { state -> [Lane] in
            let gone = state.lanes.filter { shouldRemove($0.exporter.name) }
            state.lanes.removeAll { shouldRemove($0.exporter.name) }
            return gone
        }
        for lane in removed { lane.close() }
    }

    public var destinationNames: [String] { state.withLock { $0.lanes.map(\.exporter.name) } }

    public func stats() -> [SinkStats] {
        state.withLock { $0.lanes }.map(\.stats)
    }

    /// Runs every exporter until graceful shutdown, then drains each queue and shuts exporters down.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    let configuration = self.configuration
                    for await lane in started {
                        group.addTask { await lane.run(configuration: configuration) }
                    }
                }
            } onCancel: {
                self.close()
            }
        } onGracefulShutdown: {
            self.close()
        }
    }

    /// Stops accepting spans; queued ones are still delivered.
    public func close() {
        let lanes = state.withLock { state -> [Lane] in
            state.closed = true
            return state.lanes
        }
        for lane in lanes { lane.close() }
        starter.finish()
    }
}

final class Lane: Sendable {
    let exporter: any SpanExporter
    let route: SinkRoute
    let sampledOnly: Bool
    let queue: BoundedQueue<FinishedSpan>
    private let exported = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)

    init(exporter: any SpanExporter, route: SinkRoute, sampledOnly: Bool, capacity: Int) {
        self.exporter = exporter
        self.route = route
        self.sampledOnly = sampledOnly
        self.queue = BoundedQueue(capacity: capacity)
    }

    func accepts(_ span: FinishedSpan) -> Bool {
        (span.isSampled || !sampledOnly) && (span.kind == .request || exporter.receivesEvaluations)
            && route.matches(span)
    }

    func offer(_ span: FinishedSpan) {
        if !queue.push(span) {
            dropped.add(1, ordering: .relaxed)
        }
    }

    func close() {
        queue.close()
        exporter.beginShutdown()
    }

    var stats: SinkStats {
        SinkStats(
            sink: exporter.name, exported: exported.load(ordering: .relaxed),
            failedAttempts: exporter.failedAttempts, dropped: dropped.load(ordering: .relaxed),
            queueDepth: queue.count)
    }

    func run(configuration: PipelineConfiguration) async {
        while var batch = await queue.next(upTo: configuration.maxBatchSize) {
            if batch.count < configuration.maxBatchSize {
                await linger(until: configuration.maxBatchSize - batch.count, atMost: configuration.scheduleDelay)
                batch += queue.drain(upTo: configuration.maxBatchSize - batch.count)
            }
            let delivered = min(max(await exporter.deliver(batch), 0), batch.count)
            exported.add(delivered, ordering: .relaxed)
            dropped.add(batch.count - delivered, ordering: .relaxed)
        }
        await exporter.shutdown()
    }

    /// Gives a partial batch time to fill, ending early when it is full or the queue closes, so
    /// shutdown never waits out a whole schedule delay. Polled: this runs once per batch, off the
    /// request path.
    private func linger(until count: Int, atMost delay: Duration) async {
        let deadline = ContinuousClock.now + delay
        while !queue.isClosed, queue.count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(20), deadline - ContinuousClock.now))
        }
    }
}
