import Logging
import Synchronization
import Telemetry

/// A team destination set through the admin API, checked again before every batch: the host was
/// checked when it was set, but DNS can change since (rebinding). A batch for a destination that
/// now resolves somewhere forbidden is not sent; the pipeline counts it as dropped.
///
/// Still a window: the HTTP client resolves the name again when it connects, so a name that
/// answers differently from one lookup to the next can slip between this check and the connection.
final class EgressGuardedExporter: SpanExporter {
    let inner: any SpanExporter
    let sink: SinkConfig
    let policy: EgressPolicy
    let logger: Logger
    private let refusedBatches = Atomic<Int>(0)

    init(_ inner: any SpanExporter, sink: SinkConfig, policy: EgressPolicy, logger: Logger) {
        self.inner = inner
        self.sink = sink
        self.policy = policy
        self.logger = logger
    }

    var name: String { inner.name }
    var receivesEvaluations: Bool { inner.receivesEvaluations }
    /// Refused batches count as failed attempts, so the sink's alert sees them.
    var failedAttempts: Int { inner.failedAttempts + refusedBatches.load(ordering: .relaxed) }
    /// Batches not sent because the destination resolved somewhere forbidden.
    var refused: Int { refusedBatches.load(ordering: .relaxed) }

    func deliver(_ batch: [FinishedSpan]) async -> Int {
        if let refusal = await policy.check(sink: sink) {
            refusedBatches.add(1, ordering: .relaxed)
            // The sink's name only: the message names the host, which may be a credential (a DSN).
            logger.warning(
                "a team destination now resolves where team destinations may not send; batch dropped",
                metadata: ["sink": "\(sink.name)", "reason": "\(Self.reason(refusal))"])
            return 0
        }
        return await inner.deliver(batch)
    }

    func beginShutdown() { inner.beginShutdown() }
    func shutdown() async { await inner.shutdown() }

    static func reason(_ refusal: EgressPolicy.Refusal) -> String {
        switch refusal {
        case .notAURL: "not_a_url"
        case .unresolvable: "unresolvable"
        case .forbidden(_, let kind): kind.rawValue
        }
    }
}
