import Logging
import Redis
import ServiceLifecycle
import Sinks
import Telemetry

/// What the replicas of one gateway share through Redis: rate windows and parallel slots
/// (`SharedLimits`) and cooldowns (`SharedCooldowns`). A service: it follows other replicas'
/// cooldowns while the gateway runs and closes the Redis connections when it stops (after the
/// HTTP server, so requests finishing during shutdown still release their slots).
public final class SharedState: Service, Sendable {
    let client: RedisClient
    let limits: SharedLimits
    let cooldowns: SharedCooldowns

    init(
        client: RedisClient, settings: SharedStateSettings, router: ModelRouter, prometheus: PrometheusSink,
        clock: any GatewayClock, logger: Logger
    ) {
        self.client = client
        self.limits = SharedLimits(
            client: client, failureMode: settings.failureMode, prometheus: prometheus, logger: logger)
        self.cooldowns = SharedCooldowns(client: client, cooldowns: router.cooldowns, clock: clock, logger: logger)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.cooldowns.run()
        }
        await client.shutdown()
    }
}
