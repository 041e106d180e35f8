import NIOCore
import Synchronization

/// Bounds a relayed stream in time: its whole duration (`max_stream_duration`), and how long one
/// write to the client may block (`stream_write_timeout`: a client that stops reading fills its
/// TCP window and would otherwise hold the stream, its upstream call and its limits forever).
/// The relay runs as a task of its own; when a bound is passed it is cancelled, which ends both a
/// blocked write and a wait on the upstream.
final class StreamWatch: Sendable {
    enum Expiry: Sendable, Equatable {
        case maxDuration
        case writeStalled
    }

    private struct State {
        var writeStarted: ContinuousClock.Instant?
        var expired: Expiry?
    }

    private let maxDuration: Duration
    private let writeTimeout: Duration
    private let state = Mutex(State())

    init(limits: ServerLimits) {
        maxDuration = limits.maxStreamDuration
        writeTimeout = limits.streamWriteTimeout
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
            let writeStarted = state.withLock { $0.writeStarted }
            if now >= deadline {
                state.withLock { $0.expired = .maxDuration }
                return true
            }
            if let writeStarted, now - writeStarted >= writeTimeout {
                state.withLock { $0.expired = .writeStalled }
                return true
            }
            let next = min(deadline, (writeStarted ?? now) + writeTimeout)
            try? await Task.sleep(until: next, clock: .continuous)
        }
        return false
    }
}
