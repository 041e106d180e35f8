import NIOCore
import NIOHTTP1
import Proxy
import Synchronization

/// A `Transport` in memory: answers every request with what `answer` returns and records what it
/// was sent. Adapter and auth tests use it where the network must not be reached.
public final class FakeTransport: Transport {
    public typealias Answer = @Sendable (UpstreamRequest) async throws -> UpstreamResponse

    private let state: Mutex<(answer: Answer, requests: [UpstreamRequest])>

    public init(_ answer: @escaping Answer) {
        state = Mutex((answer, []))
    }

    /// Answers every request with `status` and `body`.
    public convenience init(status: Int, body: String, headers: HTTPHeaders = ["content-type": "application/json"]) {
        self.init(Self.canned(status: status, body: body, headers: headers))
    }

    /// A transport for code that must not need the network: every send fails to connect.
    public static func unreachable() -> FakeTransport {
        FakeTransport { _ in throw TransportError.connectionFailed }
    }

    /// The requests sent so far, in order.
    public var requests: [UpstreamRequest] { state.withLock { $0.requests } }

    /// Replaces the answer for later requests.
    public func answer(with answer: @escaping Answer) {
        state.withLock { $0.answer = answer }
    }

    public func answer(status: Int, body: String) {
        answer(with: Self.canned(status: status, body: body, headers: ["content-type": "application/json"]))
    }

    public func send(_ request: UpstreamRequest, timeout: Duration) async throws -> UpstreamResponse {
        let answer = state.withLock { state in
            state.requests.append(request)
            return state.answer
        }
        return try await answer(request)
    }

    static func canned(status: Int, body: String, headers: HTTPHeaders) -> Answer {
        { _ in UpstreamResponse(status: status, headers: headers, body: ByteChunks([ByteBuffer(string: body)])) }
    }
}

/// A fixed sequence of body chunks, as an upstream body.
public struct ByteChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let chunks: [ByteBuffer]
    /// Thrown after the last chunk, to stand for a connection that broke.
    let failure: (any Error & Sendable)?

    public init(_ chunks: [ByteBuffer], failingWith failure: (any Error & Sendable)? = nil) {
        self.chunks = chunks
        self.failure = failure
    }

    public init(_ texts: [String], failingWith failure: (any Error & Sendable)? = nil) {
        self.init(texts.map { ByteBuffer(string: $0) }, failingWith: failure)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var rest: ArraySlice<ByteBuffer>
        var failure: (any Error & Sendable)?

        public mutating func next() async throws -> ByteBuffer? {
            if let chunk = rest.popFirst() { return chunk }
            if let failure {
                self.failure = nil
                throw failure
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(rest: chunks[...], failure: failure)
    }
}
