import Evaluations
import HTTPTypes
import NIOCore
import Synchronization

/// A gateway in this process as an evaluation's target: each request runs the same flow as one
/// from the network, authenticated with `key`, with no socket in between.
public struct GatewayEvalTarget: EvalTarget {
    let gateway: Gateway
    /// The caller's key as a bearer token (the run is charged to it); none for a gateway without
    /// a master key.
    let credentials: [(String, String)]

    public init(gateway: Gateway, key: String?) {
        self.gateway = gateway
        self.credentials = key.map { [("authorization", "Bearer \($0)")] } ?? []
    }

    public func send(_ request: EvalRequest, firstChunk: @escaping @Sendable () -> Void) async -> EvalResponse {
        var headers = HTTPFields()
        for (name, value) in request.headers + credentials {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let reply = await gateway.proxy(
            .chat, body: ByteBuffer(bytes: request.body), headers: headers, route: "/v1/chat/completions")
        switch reply.body {
        case .bytes(let bytes):
            firstChunk()
            return EvalResponse(status: reply.status, headers: reply.headers, body: bytes)
        case .stream(let stream):
            let body = Mutex<[UInt8]>([])
            let ending = await stream.run { buffer in
                guard buffer.readableBytes > 0 else { return }
                let first = body.withLock { collected in
                    defer { collected.append(contentsOf: buffer.readableBytesView) }
                    return collected.isEmpty
                }
                if first { firstChunk() }
            }
            let trailers: [(String, String)]
            switch ending {
            case .finished(let sent): trailers = sent
            case .clientGone: trailers = []
            }
            return EvalResponse(
                status: reply.status, headers: reply.headers, body: body.withLock { $0 }, trailers: trailers)
        }
    }
}
