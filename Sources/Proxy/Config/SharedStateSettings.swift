/// Where replicas keep what they share (rate windows, parallel slots, cooldowns): a Redis server,
/// configured as LiteLLM configures it (`router_settings.redis_host`/`redis_port`/`redis_password`,
/// `redis_url`, or the `REDIS_URL`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD` variables).
public struct SharedStateSettings: Sendable, Equatable, CustomStringConvertible {
    /// What a request meets while Redis cannot be reached.
    public enum FailureMode: String, Sendable, CaseIterable {
        /// Keep answering with this replica's own limits until Redis returns (LiteLLM's behaviour, the default).
        case failOpen = "fail-open"
        /// Refuse requests that have limits with 503 until Redis returns.
        case failClosed = "fail-closed"
    }

    /// `redis://[[user]:password@]host[:port][/db]`, built from the separate settings when no URL is given.
    public var url: String
    public var failureMode = FailureMode.failOpen
    /// How long a parallel slot or a budget hold outlives its replica (`redis_lease_seconds`): a
    /// live replica renews what its requests hold every third of it, so only a dead one's expire.
    public var lease: Duration = .seconds(60)

    public init(url: String, failureMode: FailureMode = .failOpen, lease: Duration = .seconds(60)) {
        self.url = url
        self.failureMode = failureMode
        self.lease = lease
    }

    /// Never the URL, which may carry a password.
    public var description: String { "SharedStateSettings(failureMode: \(failureMode.rawValue), lease: \(lease))" }
}
