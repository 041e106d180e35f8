import NIOCore

/// A stream's framing: bytes in, whole frames (SSE events, NDJSON lines) out, across arbitrary
/// network read boundaries.
protocol StreamFraming: Sendable {
    associatedtype Frame
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(GatewayError) -> [Frame]
    /// The last frame, when the stream ended without its terminator.
    mutating func finish() -> Frame?
}

extension SSEDecoder: StreamFraming {}
extension NDJSONDecoder: StreamFraming {}

/// A provider stream decoder that translates one frame at a time: the framing and the
/// end-of-stream handling are the same for every such provider, only `translate` differs.
protocol FramedStreamDecoder: ChatStreamDecoder {
    associatedtype Framing: StreamFraming
    var framing: Framing { get set }
    mutating func translate(_ frame: Framing.Frame) throws(GatewayError) -> [StreamChunk]
    /// Refuses a stream that closed before the provider's end marker; by default any end is one.
    func checkComplete() throws(GatewayError)
}

extension FramedStreamDecoder {
    func checkComplete() throws(GatewayError) {}

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        var chunks: [StreamChunk] = []
        for frame in try framing.feed(buffer.readableBytesView) { chunks += try translate(frame) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        var chunks: [StreamChunk] = []
        if let frame = framing.finish() { chunks = try translate(frame) }
        try checkComplete()
        return chunks
    }
}
