import Logging
import NIOCore

extension RedisClient {
    /// Messages published to `channel`, on a dedicated connection outside the pool (a RESP2 connection in
    /// subscribe mode refuses other commands). Reconnects with backoff and yields `.subscribed` after every
    /// (re)subscribe, so a cache can drop what it may have missed; pub/sub stores nothing while a subscriber
    /// is away. Ends when the client shuts down or the consumer stops iterating.
    public func subscribe(to channel: String) -> AsyncStream<RedisSubscriptionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: RedisSubscriptionEvent.self,
            bufferingPolicy: .bufferingNewest(10_000)
        )
        let id = self.nextSubscriptionID.add(1, ordering: .relaxed).newValue
        let task = Task {
            await self.runSubscription(channel: channel, continuation: continuation)
            continuation.finish()
        }
        let registered = self.subscriptions.withLock { subscriptions in
            guard subscriptions != nil else { return false }
            subscriptions?[id] = task
            return true
        }
        if !registered { task.cancel() }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            self?.subscriptions.withLock { _ = $0?.removeValue(forKey: id) }
        }
        return stream
    }

    private func runSubscription(
        channel: String,
        continuation: AsyncStream<RedisSubscriptionEvent>.Continuation
    ) async {
        let backoff = RedisBackoff(
            minimum: self.configuration.minimumReconnectDelay,
            maximum: self.configuration.maximumReconnectDelay
        )
        var failures = 0
        let metadata: Logger.Metadata = [
            "redis.server": "\(self.configuration.hostAndPort)", "redis.channel": "\(channel)",
        ]
        while !Task.isCancelled {
            do throws(RedisError) {
                if try await self.subscribeOnce(channel: channel, continuation: continuation) { failures = 0 }
                if Task.isCancelled { return }
                self.logger.warning("Redis subscription connection closed; resubscribing", metadata: metadata)
                failures = max(failures, 1)
            } catch {
                failures += 1
                var failureMetadata = metadata
                failureMetadata["error.message"] = "\(error.message)"
                self.logger.warning("Redis subscription failed", metadata: failureMetadata)
            }
            do {
                try await Task.sleep(for: backoff.delay(afterFailures: failures))
            } catch {
                return
            }
        }
    }

    /// Connects, subscribes, and returns when the connection closes (or the task is cancelled): true when
    /// the server had confirmed the subscription.
    private func subscribeOnce(
        channel: String,
        continuation: AsyncStream<RedisSubscriptionEvent>.Continuation
    ) async throws(RedisError) -> Bool {
        // Completed by the server's confirmation, or failed by the watchdog or the close.
        let confirmed = self.eventLoopGroup.any().makePromise(of: Void.self)
        // The confirmation and the messages come through the same callback, on the channel's event loop,
        // so `.subscribed` is always yielded before the messages that follow it.
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(
                id: 0,
                configuration: self.configuration,
                eventLoopGroup: self.eventLoopGroup,
                logger: self.logger
            ) { value in
                guard let parts = value.array, parts.count == 3, let kind = parts[0].string else { return }
                switch kind {
                case "subscribe" where parts[1].string == channel:
                    confirmed.succeed()
                    continuation.yield(.subscribed)
                case "message" where parts[1].string == channel:
                    if let payload = parts[2].bytes { continuation.yield(.message(payload)) }
                default:
                    break
                }
            }
        } catch {
            confirmed.fail(error)
            throw error
        }
        // No confirmation within the command timeout: the connection is unusable, start over.
        let watchdog = confirmed.futureResult.eventLoop.scheduleTask(in: TimeAmount(self.configuration.commandTimeout)) {
            confirmed.fail(RedisError(kind: .timeout, message: "SUBSCRIBE was not confirmed in time"))
        }
        confirmed.futureResult.whenFailure { _ in connection.close() }
        await withTaskCancellationHandler {
            connection.write(["SUBSCRIBE", channel])
            await connection.closed()
        } onCancel: {
            connection.close()
        }
        watchdog.cancel()
        confirmed.fail(RedisError(kind: .closed, message: "the subscription connection closed"))
        do {
            try await confirmed.futureResult.get()
            return true
        } catch {
            return false
        }
    }
}
