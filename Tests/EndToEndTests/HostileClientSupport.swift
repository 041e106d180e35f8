import GatewayTesting
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Telemetry

/// An upstream whose answers the test holds and releases, so a test can act at a known point of
/// a request (before the head, mid-stream) without racing a clock. The model name picks the
/// behaviour:
/// - `gate-head`: waits for `release()` before answering; then streams a short answer.
/// - `gate-head-long`: as `gate-head`, with the long tail after its first chunk.
/// - `gate-mid`: answers at once with two chunks, waits for `release()`, then sends the long tail.
///
/// The long tail (512 KiB) is more than the gateway can hand to its socket before a client's reset
/// shows; a short one can all be accepted by NIO's writer first, and the request then settles as
/// answered, which is not what the reset tests are about.
/// - `flood`: streams 64 KiB chunks (up to 64 MiB) as fast as the reader takes them.
/// - `hang`: sends one chunk and never ends (until the test stops).
/// - `fail-first`: answers 200 and then, before any output, an error event.
final class GatedUpstream: Sendable {
    /// Each request's model, as it arrives.
    let arrivals: AsyncStream<String>
    private let arrived: AsyncStream<String>.Continuation
    private let held = Gate()

    init() {
        (arrivals, arrived) = AsyncStream.makeStream()
    }

    /// Runs `body`, then opens the gate even when `body` throws, so that requests waiting at it
    /// end instead of holding the test until its time limit.
    func releasing(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            release()
            throw error
        }
        release()
    }

    func release() { held.open() }

    static func chunk(_ text: String, finish: Bool = false) -> ByteBuffer {
        let chunk: JSONValue = .object([
            "id": "chatcmpl-gated", "object": "chat.completion.chunk", "created": .int(1_700_000_000), "model": "gated",
            "choices": .array([
                .object([
                    "index": .int(0), "delta": finish ? .object([:]) : .object(["content": .string(text)]),
                    "finish_reason": finish ? "stop" : .null,
                ])
            ]),
        ])
        return ByteBuffer(bytes: Array("data: ".utf8) + chunk.encoded() + Array("\n\n".utf8))
    }

    static let usageChunk = ByteBuffer(
        string:
            #"data: {"id":"chatcmpl-gated","object":"chat.completion.chunk","created":1700000000,"model":"gated","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}"#
            + "\n\ndata: [DONE]\n\n")

    /// 512 chunks of about 1 KiB of text.
    static func writeLongTail(_ writer: inout any ResponseBodyWriter) async throws {
        let more = " " + String(repeating: "more ", count: 205)
        for _ in 0..<512 { try await writer.write(chunk(more)) }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let model = (try? JSONParser.parse(Array(body.readableBytesView)))?["model"]?.stringValue ?? ""
            self.arrived.yield(model)
            let headers: HTTPFields = [.contentType: "text/event-stream"]
            switch model {
            case "gate-head", "gate-head-long":
                await self.held.wait()
                return Response(
                    status: .ok, headers: headers,
                    body: .init { writer in
                        try await writer.write(Self.chunk("Hello"))
                        if model == "gate-head-long" { try await Self.writeLongTail(&writer) }
                        try await writer.write(Self.chunk("", finish: true))
                        try await writer.write(Self.usageChunk)
                        try await writer.finish(nil)
                    })
            case "gate-mid":
                return Response(
                    status: .ok, headers: headers,
                    body: .init { writer in
                        try await writer.write(Self.chunk("Twelve bytes"))
                        try await writer.write(Self.chunk(" more words."))
                        await self.held.wait()
                        try await Self.writeLongTail(&writer)
                        try await writer.write(Self.chunk("", finish: true))
                        try await writer.write(Self.usageChunk)
                        try await writer.finish(nil)
                    })
            case "flood":
                let piece = String(repeating: "x", count: 64 * 1024)
                return Response(
                    status: .ok, headers: headers,
                    body: .init { writer in
                        for _ in 0..<1024 { try await writer.write(Self.chunk(piece)) }
                        try await writer.finish(nil)
                    })
            case "fail-first":
                return Response(
                    status: .ok, headers: headers,
                    body: .init { writer in
                        try await writer.write(
                            ByteBuffer(string: #"data: {"error":{"message":"overloaded","type":"server_error"}}"# + "\n\n"))
                        try await writer.finish(nil)
                    })
            default:  // hang
                return Response(
                    status: .ok, headers: headers,
                    body: .init { writer in
                        try await writer.write(Self.chunk("Hello"))
                        await self.held.wait()
                        try await writer.finish(nil)
                    })
            }
        }
        return router
    }
}

/// A TCP client that speaks raw bytes: for half-sent heads, connection resets and clients that
/// stop reading, which no HTTP client library will do on purpose.
/// Used by one test task at a time (the iterator is not shared), hence `@unchecked`.
final class RawConnection: @unchecked Sendable {
    private let channel: any Channel
    private var inbound: AsyncStream<ByteBuffer>.Iterator

    private final class Reader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let sink: AsyncStream<ByteBuffer>.Continuation
        init(_ sink: AsyncStream<ByteBuffer>.Continuation) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { sink.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) {
            sink.finish()
            context.fireChannelInactive()
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    /// `reading: false` never reads from the socket (a client that stalls), with a small
    /// receive buffer so the sender's writes back up quickly.
    static func connect(port: Int, reading: Bool = true) async throws -> RawConnection {
        let (stream, sink) = AsyncStream<ByteBuffer>.makeStream()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: reading)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Reader(sink)) }
            }
        if !reading { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: 4096) }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, inbound: stream.makeAsyncIterator())
    }

    private init(channel: any Channel, inbound: AsyncStream<ByteBuffer>.Iterator) {
        self.channel = channel
        self.inbound = inbound
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Everything received until the server closes the connection.
    func readToClose() async -> String {
        var text = ""
        while let piece = await next() { text += String(buffer: piece) }
        return text
    }

    /// Reads until `marker` has arrived (or the connection closed); returns all read so far.
    func read(until marker: String) async -> String {
        var text = ""
        while !text.contains(marker), let piece = await next() { text += String(buffer: piece) }
        return text
    }

    private func next() async -> ByteBuffer? {
        await inbound.next()
    }

    /// Closes with a TCP reset (SO_LINGER 0), as a client that crashes or is killed does.
    func reset() async {
        try? await (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try? await channel.close()
    }

    func close() async {
        try? await channel.close()
    }
}

/// A chat request head and body, as raw HTTP/1.1.
func rawChatRequest(model: String, key: String, stream: Bool = true) -> String {
    let body =
        #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"Tell me a long story about gateways"}]}"#
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(key)\r\n"
        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
}

extension Harness {
    var gatewayPort: Int { gatewayURL.split(separator: ":").last.flatMap { Int($0) } ?? 0 }
}
