import Foundation
import Synchronization

/// A child process whose output (stdout and stderr together) is read as it arrives, so a test can
/// wait for a line (a listening address) instead of polling, and copied to `log` when given.
/// `Process` is not `Sendable`; this class only calls its thread-safe members.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private struct State {
        var text = ""
        var ended = false
        var waiters: [(pattern: String, continuation: CheckedContinuation<String?, Never>)] = []
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// `standardError: false` reads stdout only (for output a test parses) and drops stderr.
    public init(
        executable: String, arguments: [String], environment: [String: String], log: FileHandle? = nil,
        standardError: Bool = true
    ) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = standardError ? pipe : FileHandle.nullDevice
        try process.run()
        let reader = pipe.fileHandleForReading
        // A blocking read loop on its own thread: it ends when every writer (the child) is gone.
        Thread.detachNewThread { [self] in
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                log?.write(data)
                received(String(decoding: data, as: UTF8.self))
            }
            ended()
        }
    }

    /// Everything the process wrote so far.
    public var output: String { state.withLock { $0.text } }

    /// Waits until the output has a match for the regular expression `pattern` and returns the
    /// match; nil when the process closed its output without one.
    public func firstMatch(of pattern: String) async -> String? {
        await withCheckedContinuation { continuation in
            let found = state.withLock { state -> String?? in
                if let match = Self.match(pattern, in: state.text) { return .some(match) }
                if state.ended { return .some(nil) }
                state.waiters.append((pattern, continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    /// Waits until the process has closed its output (it exited, or was killed).
    public func outputEnded() async {
        await withCheckedContinuation { continuation in
            let ended = state.withLock { state in
                if !state.ended { state.endWaiters.append(continuation) }
                return state.ended
            }
            if ended { continuation.resume() }
        }
    }

    /// Waits for the exit without blocking the caller's thread; returns the status.
    public func exit() async -> Int32 {
        await outputEnded()
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { [process] in
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }

    private func received(_ text: String) {
        let ready = state.withLock { state in
            state.text += text
            var ready: [(CheckedContinuation<String?, Never>, String)] = []
            state.waiters.removeAll { waiter in
                guard let match = Self.match(waiter.pattern, in: state.text) else { return false }
                ready.append((waiter.continuation, match))
                return true
            }
            return ready
        }
        for (continuation, match) in ready { continuation.resume(returning: match) }
    }

    private func ended() {
        let (waiters, endWaiters) = state.withLock { state in
            state.ended = true
            defer {
                state.waiters = []
                state.endWaiters = []
            }
            return (state.waiters, state.endWaiters)
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
        for waiter in endWaiters { waiter.resume() }
    }

    static func match(_ pattern: String, in text: String) -> String? {
        text.range(of: pattern, options: .regularExpression).map { String(text[$0]) }
    }
}
