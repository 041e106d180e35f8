import NIOCore

/// Matches replies to requests on one pipelined connection: every reply completes the oldest waiting
/// request (RESP2 replies come in command order). Error replies complete it with `.error`; callers decide
/// whether that throws. Anything that breaks the order (a deadline, a close, bad bytes) fails every waiting
/// request and closes the channel, because later replies could no longer be matched.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var promise: EventLoopPromise<RESPValue>
        /// Set on the last reply of a write; cancelled when that reply arrives.
        var timeout: Scheduled<Void>?
    }

    private var waiting = CircularBuffer<Waiting>(initialCapacity: 16)
    /// Once set, the channel is closing and new writes fail at once with this error.
    private var failure: RedisError?
    private let server: String
    /// Receives replies no request is waiting for; only a subscriber connection has one.
    private let onPush: (@Sendable (RESPValue) -> Void)?

    init(server: String, onPush: (@Sendable (RESPValue) -> Void)?) {
        self.server = server
        self.onPush = onPush
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        if let failure = self.failure {
            request.replies.forEach { $0.fail(failure) }
            promise?.fail(failure)
            return
        }
        for (offset, reply) in request.replies.enumerated() {
            var entry = Waiting(promise: reply, timeout: nil)
            if offset == request.replies.count - 1 {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                entry.timeout = context.eventLoop.scheduleTask(deadline: request.deadline) {
                    let (handler, context) = loopBound.value
                    handler.timedOut(context: context, promise: reply)
                }
            }
            self.waiting.append(entry)
        }
        context.write(self.wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = self.unwrapInboundIn(data)
        guard let entry = self.waiting.popFirst() else {
            if let onPush = self.onPush {
                onPush(value)
            } else {
                self.failAll(
                    RedisError(kind: .protocolViolation, message: "\(self.server) sent a reply no request was waiting for"),
                    context: context
                )
            }
            return
        }
        entry.timeout?.cancel()
        entry.promise.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(RedisError(kind: .closed, message: "the connection to \(self.server) closed"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError =
            (error as? RedisError)
            ?? RedisError(kind: .connection, message: "connection to \(self.server) failed: \(error)")
        self.failAll(redisError, context: context)
    }

    private func timedOut(context: ChannelHandlerContext, promise: EventLoopPromise<RESPValue>) {
        // Still waiting for this reply (or one before it)? Then the reply stream is out of step.
        guard self.waiting.contains(where: { $0.promise == promise }) else { return }
        self.failAll(
            RedisError(kind: .timeout, message: "no reply from \(self.server) within the command timeout"),
            context: context
        )
    }

    private func failAll(_ error: RedisError, context: ChannelHandlerContext) {
        if self.failure == nil { self.failure = error }
        let failed = self.waiting
        self.waiting.removeAll()
        for entry in failed {
            entry.timeout?.cancel()
            entry.promise.fail(error)
        }
        if context.channel.isActive { context.close(promise: nil) }
    }
}
