import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis, shared by many concurrent requests (pipelined).
final class RedisConnection: Sendable {
    let id: Int
    private let channel: any Channel
    private let commandTimeout: Duration

    private init(id: Int, channel: any Channel, commandTimeout: Duration) {
        self.id = id
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// Connects, then authenticates, names the connection and selects the database in one round trip.
    static func connect(
        id: Int,
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws(RedisError) -> RedisConnection {
        let server = configuration.hostAndPort
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(RESPDecoder()),
                            RedisCommandHandler(server: server, onPush: onPush)
                        )
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            if let channelError = error as? ChannelError, case .connectTimeout = channelError {
                throw RedisError(kind: .timeout, message: "connecting to \(server) timed out")
            }
            throw RedisError(kind: .connection, message: "cannot connect to \(server): \(error)")
        }
        let connection = RedisConnection(id: id, channel: channel, commandTimeout: configuration.commandTimeout)
        do {
            try await connection.handshake(configuration)
        } catch {
            connection.close()
            throw error
        }
        logger.debug("Redis connection opened", metadata: ["redis.server": "\(server)", "redis.connection": "\(id)"])
        return connection
    }

    private func handshake(_ configuration: RedisConfiguration) async throws(RedisError) {
        var commands: [[String]] = []
        if let password = configuration.password {
            commands.append(configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if let name = configuration.clientName {
            commands.append(["CLIENT", "SETNAME", name])
        }
        if configuration.database != 0 {
            commands.append(["SELECT", String(configuration.database)])
        }
        guard !commands.isEmpty else { return }
        for reply in try await self.send(commands) {
            // The server's line never echoes the password ("WRONGPASS invalid username-password pair …").
            if case .error(let line) = reply { throw RedisError(kind: .server, message: line) }
        }
    }

    /// Writes all commands at once and waits for their replies, in order. Error replies are returned, not thrown.
    func send(_ commands: [[String]]) async throws(RedisError) -> [RESPValue] {
        var bytes = self.channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands { RESPEncoder.encode(command, into: &bytes) }
        let eventLoop = self.channel.eventLoop
        let replies = commands.map { _ in eventLoop.makePromise(of: RESPValue.self) }
        let request = RedisRequest(bytes: bytes, replies: replies, deadline: .now() + TimeAmount(self.commandTimeout))
        // A write that never reaches the handler (channel already closed) must still fail the replies;
        // a second completion of a promise is ignored by NIO.
        self.channel.writeAndFlush(request).whenFailure { error in
            let redisError =
                (error as? RedisError) ?? RedisError(kind: .closed, message: "the connection to Redis is closed")
            replies.forEach { $0.fail(redisError) }
        }
        var values: [RESPValue] = []
        values.reserveCapacity(replies.count)
        for reply in replies {
            do {
                values.append(try await reply.futureResult.get())
            } catch let error as RedisError {
                throw error
            } catch {
                throw RedisError(kind: .connection, message: "\(error)")
            }
        }
        return values
    }

    /// Writes a command whose replies arrive as pushes (`SUBSCRIBE`), without waiting.
    func write(_ command: [String]) {
        var bytes = self.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(command, into: &bytes)
        let request = RedisRequest(bytes: bytes, replies: [], deadline: .now() + TimeAmount(self.commandTimeout))
        self.channel.writeAndFlush(request, promise: nil)
    }

    var isActive: Bool { self.channel.isActive }

    /// Calls `body` once when the channel closes, for whatever reason.
    func onClose(_ body: @escaping @Sendable () -> Void) {
        self.channel.closeFuture.whenComplete { _ in body() }
    }

    /// Waits until the channel is closed.
    func closed() async {
        try? await self.channel.closeFuture.get()
    }

    func close() {
        self.channel.close(promise: nil)
    }
}
