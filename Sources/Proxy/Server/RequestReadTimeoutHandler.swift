import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send a request. Hummingbird's idle timer does
/// not run while a request is being read, so without this a client that sends half a head (or
/// drips a body) holds its connection forever. Three deadlines, one at a time:
/// - a new connection must send a complete head within `headerTimeout`;
/// - after a head, the body must be complete within `bodyTimeout`;
/// - after an answer, a kept-alive connection must send its next head within `idleTimeout`.
/// While the gateway is answering no deadline runs: answers are bounded by their own limits.
final class RequestReadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Between a request's head and the end of its body, while no answer has ended yet.
    private var readingBody = false

    init(limits: ServerLimits) {
        headerTimeout = TimeAmount(limits.requestHeaderTimeout)
        bodyTimeout = TimeAmount(limits.requestBodyTimeout)
        idleTimeout = TimeAmount(limits.idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headerTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headerTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readingBody = true
            arm(context, bodyTimeout)
        case .body:
            break
        case .end:
            // The end of a body drained after its answer (an early refusal) keeps the idle deadline.
            if readingBody { disarm() }
            readingBody = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            readingBody = false
            arm(context, idleTimeout)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        disarm()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
