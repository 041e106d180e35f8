import NIOCore
import Synchronization

/// Bounds a relayed stream in time: its whole duration (`max_stream_duration`), and how long one
/// write to the client may block (`stream_write_timeout`: a client that stops reading fills its
/// TCP window and would otherwise hold the stream, its upstream call and its limits forever).
/// It also bounds each wait for the upstream's next chunk by the request's timeout
/// (`stream_timeout`, else `timeout`), as an HTTP client's read timeout would.
/// The relay runs as a task of its own; when a bound is passed it is cancelled, which ends both a
/// blocked write and a wait on the upstream.
final class StreamWatch: Sendable {
    enum Expiry: Sendable, Equatable {
        case maxDuration
        case writeStalled
        /// The upstream sent nothing for the chunk timeout.
        case upstreamStalled
    }

    private struct State {
        var writeStarted: ContinuousClock.Instant?
        /// Since when the relay has been waiting for the upstream's next chunk.
        var readStarted: ContinuousClock.Instant?
        var expired: Expiry?
    }

    private let maxDuration: Duration
    private let writeTimeout: Duration
    /// The longest wait for one chunk from the upstream; nil: unbounded.
    let chunkTimeout: Duration?
    private let state = Mutex(State())

    init(limits: ServerLimits, chunkTimeout: Duration? = nil) {
        maxDuration = limits.maxStreamDuration
        writeTimeout = limits.streamWriteTimeout
        self.chunkTimeout = chunkTimeout
    }

    /// The upstream's body, its waits timed for the watchdog.
    func timed(_ body: any AsyncSequence<ByteBuffer, any Error> & Sendable) -> WatchedBody {
        WatchedBody(base: body, watch: self)
    }

    struct WatchedBody: AsyncSequence, Sendable {
        let base: any AsyncSequence<ByteBuffer, any Error> & Sendable
        let watch: StreamWatch

        func makeAsyncIterator() -> Iterator {
            Iterator(base: base.makeAsyncIterator(), watch: watch)
        }

        struct Iterator: AsyncIteratorProtocol {
            var base: any AsyncIteratorProtocol<ByteBuffer, any Error>
            let watch: StreamWatch

            mutating func next() async throws -> ByteBuffer? {
                watch.state.withLock { $0.readStarted = .now }
                defer { watch.state.withLock { $0.readStarted = nil } }
                return try await base.next()
            }
        }
    }

    /// Which bound ended the stream, if one did.
    var expired: Expiry? { state.withLock { $0.expired } }

    /// `write`, timed for the watchdog.
    func watched(_ write: @escaping ReplyStream.Write) -> ReplyStream.Write {
        { [self] buffer in
            state.withLock { $0.writeStarted = .now }
            defer { state.withLock { $0.writeStarted = nil } }
            try await write(buffer)
        }
    }

    /// Runs `relay` until it returns or a bound is passed (then cancelled, and awaited).
    func run<Result: Sendable>(_ relay: @escaping @Sendable () async -> Result) async -> Result {
        await run(until: ContinuousClock.now + maxDuration, relay)
    }

    /// Writes once more after the relay (the `[DONE]` marker, a last error event), bounded by
    /// the write timeout like every other write.
    func finalWrite(_ bytes: [UInt8], with write: @escaping ReplyStream.Write) async {
        let watched = watched(write)
        await run(until: ContinuousClock.now + writeTimeout) { try? await watched(ByteBuffer(bytes: bytes)) }
    }

    private func run<Result: Sendable>(
        until deadline: ContinuousClock.Instant, _ relay: @escaping @Sendable () async -> Result
    ) async -> Result {
        let relayTask = Task { await relay() }
        let watchdog = Task { [self] in
            if await watch(until: deadline) { relayTask.cancel() }
        }
        let result = await withTaskCancellationHandler {
            await relayTask.value
        } onCancel: {
            relayTask.cancel()
        }
        watchdog.cancel()
        return result
    }

    /// Waits until a bound is passed (true) or the watch is cancelled (false).
    private func watch(until deadline: ContinuousClock.Instant) async -> Bool {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (writeStarted, readStarted) = state.withLock { ($0.writeStarted, $0.readStarted) }
            if now >= deadline {
                state.withLock { $0.expired = .maxDuration }
                return true
            }
            if let writeStarted, now - writeStarted >= writeTimeout {
                state.withLock { $0.expired = .writeStalled }
                return true
            }
            if let chunkTimeout, let readStarted, now - readStarted >= chunkTimeout {
                state.withLock { $0.expired = .upstreamStalled }
                return true
            }
            var next = min(deadline, (writeStarted ?? now) + writeTimeout)
            // With no read pending, one starting now expires no sooner than now + chunkTimeout.
            if let chunkTimeout { next = min(next, (readStarted ?? now) + chunkTimeout) }
            try? await Task.sleep(until: next, clock: .continuous)
        }
        return false
    }
}
