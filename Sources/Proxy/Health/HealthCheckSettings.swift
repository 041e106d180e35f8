/// `general_settings.health_check_interval` and `background_health_checks` (LiteLLM's names and
/// defaults): a `/health` result is reused for `interval` seconds, since each check calls every
/// deployment; with `background` the checks also run on that interval without being asked.
public struct HealthCheckSettings: Sendable, Equatable {
    public var interval: Double = 300
    public var background = false
    /// The longest one deployment's check may take; a check that takes longer is unhealthy.
    public var timeout: Duration = .seconds(60)

    public init(interval: Double = 300, background: Bool = false, timeout: Duration = .seconds(60)) {
        self.interval = interval
        self.background = background
        self.timeout = timeout
    }
}
