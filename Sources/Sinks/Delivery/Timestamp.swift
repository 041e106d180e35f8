/// RFC 3339 timestamps for the JSON sinks (Sentry, Langfuse, webhooks).
///
/// Written by hand because the Sinks module keeps Foundation's date formatters off its hot path:
/// span times are already nanoseconds since the epoch, and turning them into a UTC calendar date
/// is a few lines of integer arithmetic.
public enum Timestamp {
    /// `2026-11-25T13:14:48.123Z`: UTC, millisecond precision (truncated, never rounded up into the
    /// next second), the form Sentry, Langfuse and most JSON ingestion APIs accept.
    public static func iso8601(nanos: UInt64) -> String {
        let totalMillis = nanos / 1_000_000
        let millis = Int(totalMillis % 1000)
        let totalSeconds = Int64(totalMillis / 1000)
        let days = totalSeconds / 86_400
        let secondOfDay = Int(totalSeconds % 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        var text = ""
        text.reserveCapacity(24)
        text += pad(Int(year), 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        text += "." + pad(millis, 3) + "Z"
        return text
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
