import Telemetry

/// Fixed instants for tests that drive a `ManualClock`, so no test depends on when it runs.
public enum TestTime {
    /// 2027-01-15T08:00:00Z, the first second of a minute (1_800_000_000 is a multiple of 60):
    /// a fixed-window limiter's minute starts here.
    public static let minuteStart: Double = 1_800_000_000

    /// A clock stopped `seconds` into the minute that starts at `minuteStart`.
    public static func clock(secondsIntoMinute seconds: Double = 0) -> ManualClock {
        ManualClock(seconds: minuteStart + seconds)
    }
}
