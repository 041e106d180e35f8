import Logging
import Redis
import ServiceLifecycle
import Sinks
import Store
import Telemetry

/// What the replicas of one gateway share through Redis: rate windows and parallel slots
/// (`SharedLimits`), budgets (`SharedBudgets`), cooldowns (`SharedCooldowns`), deployments'
/// usage for usage-based routing (`SharedUsage`) and changes to keys, teams, users and
/// organisations (`SharedInvalidation`). A service: it follows the other
/// replicas' cooldowns and changes while the gateway runs, and closes the Redis connections when
/// it stops (after the HTTP server, so requests finishing during shutdown still settle).
public final class SharedState: Service, Sendable {
    let client: RedisClient
    let limits: SharedLimits
    let budgets: SharedBudgets
    let cooldowns: SharedCooldowns
    let invalidation: SharedInvalidation?
    let leases: SharedLeases
    /// Only with usage-based routing, the one strategy that reads other replicas' usage.
    let usage: SharedUsage?

    init(
        client: RedisClient, settings: SharedStateSettings, cooldowns: Cooldowns, usage: SharedUsage.Setup?,
        store: CachedStore?, prometheus: PrometheusSink, clock: any GatewayClock, logger: Logger
    ) {
        self.client = client
        let health = SharedStateHealth(failureMode: settings.failureMode, prometheus: prometheus, logger: logger)
        let leases = SharedLeases(client: client, health: health, lease: settings.lease)
        self.leases = leases
        self.limits = SharedLimits(client: client, health: health, leases: leases)
        let budgets = SharedBudgets(client: client, health: health, leases: leases)
        self.budgets = budgets
        self.cooldowns = SharedCooldowns(client: client, cooldowns: cooldowns, clock: clock, logger: logger)
        self.usage = usage.map {
            SharedUsage(client: client, health: health, load: $0.load, ids: $0.ids, clock: clock)
        }
        self.invalidation = store.map { SharedInvalidation(client: client, store: $0, budgets: budgets, logger: logger) }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.cooldowns.run() }
                group.addTask { await self.leases.run() }
                if let usage = self.usage { group.addTask { await usage.run() } }
                if let invalidation = self.invalidation { group.addTask { await invalidation.run() } }
            }
        }
        await client.shutdown()
    }
}
