// A small Redis client over swift-nio, written here because no Swift Redis client (RediStack,
// valkey-swift) is in the package mirror this project builds from. It speaks RESP2 only
// (https://redis.io/docs/latest/develop/reference/protocol-spec/), which every Redis since 2.0 starts in,
// and covers what a gateway's shared limits need: pipelined commands with deadlines, scripts, pub/sub.

import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A pooled, pipelining Redis client. Every command has a deadline (`commandTimeout`) and a down server
/// fails requests fast, because callers sit on a request path.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    let pool: RedisConnectionPool
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    /// Running subscriptions, cancelled on shutdown; nil once shut down.
    let subscriptions: Mutex<[Int: Task<Void, Never>]?>
    let nextSubscriptionID = Atomic<Int>(0)

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.pool = RedisConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.subscriptions = Mutex([:])
    }

    /// One command; a server error reply throws `RedisError(kind: .server)`.
    public func send(_ arguments: [String]) async throws(RedisError) -> RESPValue {
        let connection = try await self.pool.connection()
        let replies = try await connection.send([arguments])
        guard let reply = replies.first else {
            throw RedisError(kind: .protocolViolation, message: "no reply to a command")
        }
        if case .error(let line) = reply { throw RedisError(kind: .server, message: line) }
        return reply
    }

    /// Several commands in one write; replies in order. Error replies are returned as `.error`, not thrown,
    /// because the commands after a failed one still ran.
    public func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let connection = try await self.pool.connection()
        return try await connection.send(commands)
    }

    /// `EVALSHA` with the script's SHA-1; on a `NOSCRIPT` reply (the server restarted, failed over or ran
    /// `SCRIPT FLUSH`), `EVAL` with its source, which caches it again.
    public func eval(_ script: RedisScript, keys: [String], arguments: [String]) async throws(RedisError) -> RESPValue {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try await self.send(["EVALSHA", script.sha1] + tail)
        } catch  where error.serverErrorCode == "NOSCRIPT" {
            return try await self.send(["EVAL", script.source] + tail)
        }
    }

    /// Publishes `message`; returns how many subscribers received it (across the cluster of clients).
    public func publish(_ channel: String, _ message: String) async throws(RedisError) -> Int {
        let reply = try await self.send(["PUBLISH", channel, message])
        guard let receivers = reply.int else {
            throw RedisError(kind: .protocolViolation, message: "PUBLISH replied with \(reply), not an integer")
        }
        return Int(receivers)
    }

    /// Closes every connection and ends every subscription stream; later calls throw `.closed`.
    public func shutdown() async {
        self.pool.shutdown()
        let running = self.subscriptions.withLock { subscriptions in
            let running = subscriptions.map { Array($0.values) } ?? []
            subscriptions = nil
            return running
        }
        for task in running {
            task.cancel()
            await task.value
        }
    }

    /// How many connects the pool has started (tests check the circuit breaker with it).
    var connectAttempts: Int { self.pool.connectAttempts }
}
