import NIOCore

/// One write to a connection: encoded commands and one promise per expected reply, in order.
struct RedisRequest {
    var bytes: ByteBuffer
    var replies: [EventLoopPromise<RESPValue>]
    /// When the last reply must have arrived; past it the connection is out of step and is closed.
    var deadline: NIODeadline
}
