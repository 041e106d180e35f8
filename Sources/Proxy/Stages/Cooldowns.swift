import Synchronization
import Telemetry

/// Deployment health for the router (stage 3): a deployment that fails more than `allowedFails`
/// times within a minute, or fails in a way that cools it down at once (`Failure.coolsDownAtOnce`:
/// a rate limit, a refused key, a missing model), is left out for `cooldownTime`
/// seconds, or for as long as the provider's `retry-after` says when it says so. Times are seconds
/// from any fixed origin, passed in, so tests drive a clock.
public final class Cooldowns: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Failures tolerated per deployment within a minute (LiteLLM's `allowed_fails`).
        public var allowedFails = 3
        /// Seconds a deployment stays out once cooled down (LiteLLM's `cooldown_time`).
        public var cooldownTime = 5.0

        public init(allowedFails: Int = 3, cooldownTime: Double = 5.0) {
            self.allowedFails = allowedFails
            self.cooldownTime = cooldownTime
        }
    }

    private struct Health {
        var failures: [Double] = []
        var coolingUntil: Double?
        var cooldowns = 0
    }

    public let settings: Settings
    private let health = Mutex<[String: Health]>([:])
    /// Told of every cooldown this process starts (id, seconds), so other replicas can adopt it.
    private let announce = Mutex<(@Sendable (String, Double) -> Void)?>(nil)

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Records a failed call; returns true when it puts the deployment into cooldown.
    @discardableResult
    public func recordFailure(_ id: String, error: GatewayError, now: Double) -> Bool {
        // A context-window or policy refusal, or any other failure the client caused, is not counted.
        guard error.failure.countsAgainstDeployment else { return false }
        let (started, seconds) = health.withLock { all -> (Bool, Double?) in
            var entry = all[id] ?? Health()
            entry.failures = entry.failures.filter { now - $0 < 60 } + [now]
            let cooling = entry.coolingUntil.map { $0 > now } ?? false
            let trips = error.failure.coolsDownAtOnce || entry.failures.count > settings.allowedFails
            if trips && !cooling {
                let asked = error.headers["retry-after"].flatMap { RetryAfter.parse($0) }
                // `RetryAfter.parse` clamps the upstream's ask to a day; the configured time is held to the same.
                let seconds = asked.map { Double($0.components.seconds) } ?? min(settings.cooldownTime, 86_400)
                entry.coolingUntil = now + seconds
                entry.cooldowns += 1
                entry.failures = []
                all[id] = entry
                return (true, seconds)
            }
            all[id] = entry
            return (false, nil)
        }
        if started, let seconds { announce.withLock { $0 }?(id, seconds) }
        return started
    }

    /// Where cooldowns this process starts are announced (the shared state, with Redis).
    func announceCooldowns(to listener: @escaping @Sendable (String, Double) -> Void) {
        announce.withLock { $0 = listener }
    }

    /// A cooldown another replica started: the deployment cools here too, until the later of
    /// the two ends. Not counted in `cooldownCounts` (that replica counted it).
    func adopt(_ id: String, seconds: Double, now: Double) {
        guard seconds > 0, seconds <= 86_400 else { return }
        health.withLock { all in
            var entry = all[id] ?? Health()
            entry.coolingUntil = max(entry.coolingUntil ?? now, now + seconds)
            all[id] = entry
        }
    }

    /// Which of `ids` are cooling down, under one lock (the router asks for a whole group).
    func cooling(_ ids: [String], now: Double) -> [Bool] {
        health.withLock { all in
            if all.isEmpty { return Array(repeating: false, count: ids.count) }
            return ids.map { (all[$0]?.coolingUntil).map { $0 > now } ?? false }
        }
    }

    public func isCooling(_ id: String, now: Double) -> Bool {
        health.withLock { ($0[id]?.coolingUntil).map { $0 > now } ?? false }
    }

    /// Seconds until the first of `ids` is out of cooldown (0 if one already is).
    public func secondsUntilAvailable(_ ids: [String], now: Double) -> Double {
        health.withLock { all in
            ids.map { id in max(0, (all[id]?.coolingUntil ?? now) - now) }.min() ?? 0
        }
    }

    /// How often each deployment has been cooled down, for `/metrics`.
    public func cooldownCounts() -> [String: Int] {
        health.withLock { $0.mapValues(\.cooldowns) }
    }
}
