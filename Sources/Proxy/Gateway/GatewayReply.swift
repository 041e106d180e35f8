import NIOCore
import Synchronization

/// What the gateway answers, independent of the HTTP server that carries it.
public struct GatewayReply: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(ReplyStream)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An error as the reply the client gets: its status, OpenAI-shaped body and headers.
    public init(_ error: GatewayError, headers: [(String, String)] = []) {
        var all = headers + [("content-type", "application/json")]
        all += error.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.init(status: error.status, headers: all, body: .bytes(error.body.encoded()))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// A streamed answer: `run` writes each piece as it arrives and returns trailing headers, or
/// `clientGone` when the client went away (a `write` threw, or blocked too long): the server
/// then closes the connection instead of finishing the response.
///
/// A stream must settle its request whether or not it is ever run: when the server drops the
/// answer unrun (the client reset the connection before the response head), `abandoned` runs
/// instead, once, so the request's span, ledger row, limits and reservation still settle.
public struct ReplyStream: Sendable {
    public typealias Write = @Sendable (ByteBuffer) async throws -> Void

    public enum Ending: Sendable {
        case finished(trailers: [(String, String)])
        case clientGone
    }

    private let body: @Sendable (_ write: @escaping Write) async -> Ending
    private let lifecycle: Lifecycle?

    public init(
        run: @escaping @Sendable (_ write: @escaping Write) async -> Ending,
        abandoned: (@Sendable () async -> Void)? = nil
    ) {
        self.body = run
        self.lifecycle = abandoned.map(Lifecycle.init)
    }

    /// Runs the stream; call it at most once.
    public func run(_ write: @escaping Write) async -> Ending {
        lifecycle?.started()
        return await body(write)
    }

    /// Calls `abandoned` when the last copy of an unrun stream goes away. A deinit is the one
    /// place that runs however the server drops a response.
    private final class Lifecycle: Sendable {
        private let hasRun = Mutex(false)
        private let abandoned: @Sendable () async -> Void

        init(_ abandoned: @escaping @Sendable () async -> Void) {
            self.abandoned = abandoned
        }

        func started() {
            hasRun.withLock { $0 = true }
        }

        deinit {
            guard !hasRun.withLock({ $0 }) else { return }
            let abandoned = self.abandoned
            Task { await abandoned() }
        }
    }
}
