import Telemetry

/// `spanway_settings.spend_logs_retention`: raw spend rows older than `maxAgeSeconds` are deleted
/// by the ledger's writer, at most once per `interval`, so `spend_logs` stops growing with
/// traffic. The daily rollups (`daily_spend`) and the budgets' spend stay.
public struct SpendRetention: Sendable {
    public var maxAgeSeconds: Double
    public var interval: Double
    public var clock: any GatewayClock

    public init(maxAgeSeconds: Double, interval: Double = 3600, clock: any GatewayClock = SystemClock()) {
        self.maxAgeSeconds = maxAgeSeconds
        self.interval = interval
        self.clock = clock
    }

    /// Rows that started before this (ms since the epoch) are past retention at `now` (seconds).
    func cutoff(now: Double) -> Int64 {
        Int64(((now - maxAgeSeconds) * 1000).rounded(.down))
    }
}
