#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `Retry-After` header: delay-seconds or an HTTP-date (IMF-fixdate, the form senders must use).
/// The header comes from outside: NaN, infinities and negatives are ignored, waits longer than
/// `OutsideNumber.maximumWait` (a day) are clamped to it, and out-of-range dates are ignored.
public enum RetryAfter {
    public static func parse(_ value: String, nowSeconds: Int = Int(time(nil))) -> Duration? {
        let trimmed = value.trimmingSpaces
        if let seconds = Double(trimmed) { return OutsideNumber.duration(seconds: seconds) }
        guard let date = parseIMFFixdate(trimmed) else { return nil }
        // Both sides are bounded (years 1900...9999, a clock), so the difference cannot overflow.
        return OutsideNumber.duration(seconds: Double(max(0, date - nowSeconds)))
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` to seconds since the epoch.
    static func parseIMFFixdate(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT",
            let day = Int(parts[1]),
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                .firstIndex(of: String(parts[2])),
            let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        // Ranges first: `Int32(year - 1900)` and friends trap on out-of-range values.
        guard clock.count == 3, (1900...9999).contains(year), (1...31).contains(day), (0...23).contains(clock[0]),
            (0...59).contains(clock[1]), (0...60).contains(clock[2])
        else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(clock[0])
        tm.tm_min = Int32(clock[1])
        tm.tm_sec = Int32(clock[2])
        return Int(timegm(&tm))
    }
}

extension StringProtocol {
    public var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
