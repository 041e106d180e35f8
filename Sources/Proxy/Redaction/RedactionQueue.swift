import Synchronization
import Telemetry

/// Redacts captured content off the request path. A settled request that carries a prompt or an
/// answer waits here (bounded); one worker at a time redacts and emits. When the queue is full
/// the request is emitted at once without its content, and the drop is counted: the span still
/// reaches every sink, and unredacted content never does.
final class RedactionQueue: Sendable {
    private struct State {
        var pending: [(FinishedSpan, ContentRedactor)] = []
        var draining = false
        var redacted = 0
        var dropped = 0
    }

    private let pipeline: Pipeline
    private let capacity: Int
    private let state = Mutex(State())

    init(pipeline: Pipeline, capacity: Int = 1024) {
        self.pipeline = pipeline
        self.capacity = capacity
    }

    func submit(_ finished: FinishedSpan, redactor: ContentRedactor) {
        enum Admission { case queued, startWorker, full }
        let admission = state.withLock { state -> Admission in
            guard state.pending.count < capacity else {
                state.dropped += 1
                return .full
            }
            state.pending.append((finished, redactor))
            guard !state.draining else { return .queued }
            state.draining = true
            return .startWorker
        }
        switch admission {
        case .queued: break
        case .startWorker: Task { self.drain() }
        case .full:
            var summary = finished.summary
            summary.content = nil
            pipeline.emit(FinishedSpan(server: finished.server, attempts: finished.attempts, summary: summary))
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state in
                defer { state.pending.removeAll(keepingCapacity: true) }
                if state.pending.isEmpty { state.draining = false }
                return state.pending
            }
            guard !batch.isEmpty else { return }
            for (finished, redactor) in batch {
                var summary = finished.summary
                summary.content = summary.content.map {
                    CapturedContent(input: $0.input.map(redactor.redact), output: $0.output.map(redactor.redact))
                }
                pipeline.emit(FinishedSpan(server: finished.server, attempts: finished.attempts, summary: summary))
            }
            state.withLock { $0.redacted += batch.count }
        }
    }

    /// `spanway_sink_*{sink="content_redaction"}`: redacted, dropped (content left out), waiting.
    var stats: SinkStats {
        state.withLock {
            SinkStats(
                sink: "content_redaction", exported: $0.redacted, failedAttempts: 0, dropped: $0.dropped,
                queueDepth: $0.pending.count)
        }
    }
}
