import Synchronization

/// Where the gateway reads the time for its decisions (rate-limit windows, cooldowns, load,
/// budget windows, key expiry): the system clock in production, a hand-driven one in tests, so
/// no test races a real minute boundary.
public protocol GatewayClock: Sendable {
    /// Unix time in nanoseconds.
    func nowNanos() -> UInt64
}

extension GatewayClock {
    /// Unix time in seconds.
    public func nowSeconds() -> Double { Double(nowNanos()) / 1e9 }
}

/// The real wall clock.
public struct SystemClock: GatewayClock {
    public init() {}
    public func nowNanos() -> UInt64 { WallClock.nowNanos() }
}

/// A clock that moves only when told to: for tests, and for replaying recorded traffic.
public final class ManualClock: GatewayClock {
    private let nanos: Mutex<UInt64>

    /// Starts at `seconds` since the epoch.
    public init(seconds: Double) {
        nanos = Mutex(UInt64(seconds * 1e9))
    }

    public func nowNanos() -> UInt64 { nanos.withLock { $0 } }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let delta = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        nanos.withLock { $0 += delta }
    }

    public func set(seconds: Double) {
        nanos.withLock { $0 = UInt64(seconds * 1e9) }
    }
}
