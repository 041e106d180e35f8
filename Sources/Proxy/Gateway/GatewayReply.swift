import NIOCore

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

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// A streamed answer: `run` writes each piece as it arrives and returns trailing headers.
/// A `write` that throws means the client went away; `run` then cancels the upstream and returns.
public struct ReplyStream: Sendable {
    public let run: @Sendable (_ write: (ByteBuffer) async throws -> Void) async -> [(String, String)]

    public init(run: @escaping @Sendable (_ write: (ByteBuffer) async throws -> Void) async -> [(String, String)]) {
        self.run = run
    }
}
