import Logging
import NIOCore
import Synchronization

/// Up to `maxConnections` pipelined connections, opened lazily; requests take them in turn.
///
/// A failed connect opens a circuit breaker: until the backoff delay has passed, requests that would need a
/// new connection fail at once with `.connection` instead of each waiting for a connect timeout, and after it
/// a single request probes the server while the others keep failing fast.
final class RedisConnectionPool: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case connected(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        var consecutiveFailures = 0
        var retryAt: ContinuousClock.Instant?
        var lastFailure = ""
        var probing = false
        var isShutDown = false
        var connectAttempts = 0
    }

    private enum Choice {
        case use(RedisConnection)
        case wait(EventLoopFuture<RedisConnection>)
        case connect(slot: Int, id: Int, promise: EventLoopPromise<RedisConnection>)
        case fail(RedisError)
    }

    private let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let backoff: RedisBackoff
    private let state: Mutex<State>

    init(configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.backoff = RedisBackoff(
            minimum: configuration.minimumReconnectDelay,
            maximum: configuration.maximumReconnectDelay
        )
        self.state = Mutex(State(slots: Array(repeating: .empty, count: max(configuration.maxConnections, 1))))
    }

    /// How many connects were started; lets tests see that the breaker held requests back.
    var connectAttempts: Int { self.state.withLock { $0.connectAttempts } }

    func connection() async throws(RedisError) -> RedisConnection {
        switch self.choose() {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let future):
            do {
                return try await future.get()
            } catch let error as RedisError {
                throw error
            } catch {
                throw RedisError(kind: .connection, message: "\(error)")
            }
        case .connect(let slot, let id, let promise):
            return try await self.connect(slot: slot, id: id, promise: promise)
        }
    }

    private func choose() -> Choice {
        let now = ContinuousClock.now
        let server = self.configuration.hostAndPort
        let eventLoopGroup = self.eventLoopGroup
        return self.state.withLock { state in
            if state.isShutDown { return .fail(RedisError(kind: .closed, message: "the Redis client is shut down")) }
            let index = state.next
            state.next = (index + 1) % state.slots.count
            switch state.slots[index] {
            case .connected(let connection) where connection.isActive:
                return .use(connection)
            case .connecting(let future):
                // After a failure, a reconnect in progress is a probe: others fail fast rather than
                // wait up to the connect timeout behind it.
                guard state.consecutiveFailures > 0 else { return .wait(future) }
                for case .connected(let connection) in state.slots where connection.isActive {
                    return .use(connection)
                }
                return .fail(
                    RedisError(
                        kind: .connection, message: "Redis at \(server) is unavailable (reconnecting): \(state.lastFailure)"))
            case .empty, .connected:
                let waiting = state.retryAt.map { now < $0 } ?? false
                if waiting || state.probing {
                    for case .connected(let connection) in state.slots where connection.isActive {
                        return .use(connection)
                    }
                    let retry = state.retryAt.map { " (next attempt in \(max(now.duration(to: $0), .zero)))" } ?? ""
                    return .fail(
                        RedisError(
                            kind: .connection,
                            message: "Redis at \(server) is unavailable\(retry): \(state.lastFailure)"
                        )
                    )
                }
                if state.consecutiveFailures > 0 { state.probing = true }
                state.connectAttempts += 1
                let promise = eventLoopGroup.any().makePromise(of: RedisConnection.self)
                state.slots[index] = .connecting(promise.futureResult)
                return .connect(slot: index, id: state.connectAttempts, promise: promise)
            }
        }
    }

    private func connect(
        slot: Int,
        id: Int,
        promise: EventLoopPromise<RedisConnection>
    ) async throws(RedisError) -> RedisConnection {
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(
                id: id,
                configuration: self.configuration,
                eventLoopGroup: self.eventLoopGroup,
                logger: self.logger
            )
        } catch {
            let delay = self.backoff.delay(afterFailures: self.state.withLock { $0.consecutiveFailures + 1 })
            let failures = self.state.withLock { state in
                state.slots[slot] = .empty
                state.consecutiveFailures += 1
                state.retryAt = ContinuousClock.now + delay
                state.lastFailure = error.message
                state.probing = false
                return state.consecutiveFailures
            }
            self.logger.warning(
                "Redis connect failed",
                metadata: [
                    "redis.server": "\(self.configuration.hostAndPort)", "error.message": "\(error.message)",
                    "redis.consecutive_failures": "\(failures)", "redis.retry_in": "\(delay)",
                ]
            )
            promise.fail(error)
            throw error
        }
        let accepted = self.state.withLock { state in
            guard !state.isShutDown else { return false }
            state.slots[slot] = .connected(connection)
            state.consecutiveFailures = 0
            state.retryAt = nil
            state.probing = false
            return true
        }
        guard accepted else {
            connection.close()
            let error = RedisError(kind: .closed, message: "the Redis client is shut down")
            promise.fail(error)
            throw error
        }
        connection.onClose { [weak self] in self?.closed(slot: slot, id: id) }
        promise.succeed(connection)
        return connection
    }

    private func closed(slot: Int, id: Int) {
        self.state.withLock { state in
            if case .connected(let connection) = state.slots[slot], connection.id == id {
                state.slots[slot] = .empty
            }
        }
    }

    /// Closes every connection; later requests fail with `.closed`.
    func shutdown() {
        let connections = self.state.withLock { state in
            state.isShutDown = true
            let open = state.slots.compactMap { slot -> RedisConnection? in
                if case .connected(let connection) = slot { return connection }
                return nil
            }
            state.slots = state.slots.map { _ in .empty }
            return open
        }
        connections.forEach { $0.close() }
    }
}
