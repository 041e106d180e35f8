/// Number, money, duration and date formatting for every report view (terminal, HTML, progress).
///
/// Written by hand rather than with Foundation's formatters so the output never depends on the
/// machine's locale (a German locale would print `0,83`) and is byte-for-byte deterministic, which
/// is what the tests and diffable reports need.
public enum ReportFormat {
    /// `value` rounded half away from zero to exactly `digits` decimals: `fixed(0.8349, 2)` is `0.83`.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-∞" : "∞") }
        let digits = max(0, min(digits, 12))
        var scale: Double = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        // Beyond 2^53 the scaled value no longer holds every integer; Swift's shortest form is exact.
        guard scaled < 9.0e15 else { return "\(value)" }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        let fraction = units % UInt64(scale)
        let negative = value < 0 && units > 0
        var text = (negative ? "-" : "") + String(whole)
        if digits > 0 {
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    /// An integer with thousands separators: `12,345`.
    public static func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// US dollars with enough decimals to show three significant digits of a tiny cost
    /// (`$0.000123`), at least two decimals, trailing zeros beyond two dropped: `$1.50`, `$0.0123`.
    public static func usd(_ value: Double) -> String {
        guard value.isFinite else { return "$" + fixed(value, digits: 2) }
        let magnitude = abs(value)
        var digits = 2
        if magnitude > 0 && magnitude < 1 {
            var threshold = 0.1
            // Count the zeros after the decimal point, then keep three significant digits.
            while magnitude < threshold && digits < 10 {
                threshold /= 10
                digits += 1
            }
            digits = min(digits + 1, 10)
        }
        var text = fixed(magnitude, digits: digits)
        while digits > 2 && text.hasSuffix("0") {
            text.removeLast()
            digits -= 1
        }
        return (value < 0 && text != fixed(0, digits: 2) ? "-$" : "$") + text
    }

    /// A latency: `850ms`, `4.2ms`, `1.23s`, `12.3s`, `2m05s`.
    public static func latency(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        if seconds < 0.01 { return fixed(seconds * 1000, digits: 1) + "ms" }
        if seconds < 1 { return fixed(seconds * 1000, digits: 0) + "ms" }
        if seconds < 10 { return fixed(seconds, digits: 2) + "s" }
        if seconds < 60 { return fixed(seconds, digits: 1) + "s" }
        return duration(seconds)
    }

    /// A coarse duration for ETAs and run lengths: `45s`, `1m12s`, `1h02m`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m" + twoDigits(total % 60) + "s" }
        return "\(total / 3600)h" + twoDigits(total % 3600 / 60) + "m"
    }

    /// A score with its confidence interval: `0.83 [0.71–0.95]`, or `0.83` without one.
    public static func score(mean: Double, low: Double?, high: Double?) -> String {
        guard let low, let high else { return fixed(mean, digits: 2) }
        return fixed(mean, digits: 2) + " [" + fixed(low, digits: 2) + "–" + fixed(high, digits: 2) + "]"
    }

    /// A share as a whole percentage: `38%`.
    public static func percent(_ fraction: Double) -> String {
        fixed(fraction * 100, digits: 0) + "%"
    }

    /// The shortest text that reads back as the same `Double` (`0.1`, `2`, `1e-05`), for
    /// machine-readable output such as CSV; whole numbers lose their `.0`.
    public static func plain(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Unix seconds as UTC ISO 8601 to the second: `2026-11-30T05:52:50Z`.
    public static func utc(_ unixSeconds: Double) -> String {
        guard unixSeconds.isFinite else { return "--" }
        let seconds = Int64(unixSeconds.rounded(.down))
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(daysSinceEpoch: days)
        let hour = Int(secondOfDay / 3600)
        let minute = Int(secondOfDay % 3600 / 60)
        let second = Int(secondOfDay % 60)
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + twoDigits(month) + "-"
            + twoDigits(day) + "T" + twoDigits(hour) + ":" + twoDigits(minute) + ":" + twoDigits(second) + "Z"
    }

    static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let quotient = a / b
        let remainder = a % b
        return remainder < 0 ? (quotient - 1, remainder + b) : (quotient, remainder)
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date; Howard Hinnant's `civil_from_days`
    /// (https://howardhinnant.github.io/date_algorithms.html#civil_from_days).
    private static func civil(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
