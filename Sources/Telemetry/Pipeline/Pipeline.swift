import ServiceLifecycle
import Synchronization

/// A sink that does I/O: fed through its own bounded queue, in batches, off the request path.
public protocol SpanExporter: Sendable {
    var name: String { get }
    /// Trace sinks see only sampled requests; the ledger sees every one.
    var exportsUnsampled: Bool { get }
    /// Delivers a batch, retrying as the destination allows; false when it was given up on.
    func export(_ batch: [FinishedSpan]) async -> Bool
    /// Delivers a batch and says how many of its requests arrived; the rest count as dropped.
    /// For destinations that accept or refuse items one by one (Langfuse's 207, one POST per request).
    func deliver(_ batch: [FinishedSpan]) async -> Int
    /// Delivery attempts that have failed so far (each retry counts), read live for `/metrics`.
    var failedAttempts: Int { get }
    /// Called when the pipeline stops accepting spans: finish quickly, retry no more.
    func beginShutdown()
    /// Called after the last batch.
    func shutdown() async
}

extension SpanExporter {
    public func deliver(_ batch: [FinishedSpan]) async -> Int {
        await export(batch) ? batch.count : 0
    }

    public var exportsUnsampled: Bool { false }
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
public final class Pipeline: Service, Sendable {
    private let observers: [any SpanObserver]
    private let lanes: [Lane]
    private let configuration: PipelineConfiguration

    public init(
        observers: [any SpanObserver] = [], exporters: [any SpanExporter] = [],
        configuration: PipelineConfiguration = PipelineConfiguration()
    ) {
        self.observers = observers
        self.configuration = configuration
        self.lanes = exporters.map { Lane(exporter: $0, capacity: configuration.queueCapacity) }
    }

    public func emit(_ span: FinishedSpan) {
        for observer in observers { observer.observe(span) }
        for lane in lanes where span.isSampled || lane.exporter.exportsUnsampled {
            lane.offer(span)
        }
    }

    public func stats() -> [SinkStats] {
        lanes.map { $0.stats }
    }

    /// Runs every exporter until graceful shutdown, then drains each queue and shuts exporters down.
    public func run() async throws {
        if lanes.isEmpty {
            // Nothing to drain, but a service that returns early would stop the whole group.
            try? await gracefulShutdown()
            return
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    for lane in lanes {
                        group.addTask { await lane.run(configuration: self.configuration) }
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
        for lane in lanes {
            lane.queue.close()
            lane.exporter.beginShutdown()
        }
    }
}

final class Lane: Sendable {
    let exporter: any SpanExporter
    let queue: BoundedQueue<FinishedSpan>
    private let exported = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)

    init(exporter: any SpanExporter, capacity: Int) {
        self.exporter = exporter
        self.queue = BoundedQueue(capacity: capacity)
    }

    func offer(_ span: FinishedSpan) {
        if !queue.push(span) {
            dropped.add(1, ordering: .relaxed)
        }
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
