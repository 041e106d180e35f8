import Foundation

/// Prisma's `DateTime` as PostgreSQL's `to_jsonb` writes a `TIMESTAMP(3)` without zone, which
/// LiteLLM fills in UTC: `2025-03-26T16:21:13.123` (fraction optional).
enum LiteLLMTimestamp {
    static func seconds(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        // YYYY-MM-DDTHH:MM:SS at least.
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var millis = 0
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 100
            while index < bytes.count, let digit = number(index..<index + 1) {
                millis += digit * scale
                scale /= 10
                index += 1
            }
        }
        // A zone would mean another column type; refuse rather than shift by it.
        guard index == bytes.count || (index == bytes.count - 1 && bytes[index] == UInt8(ascii: "Z")) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let whole = timegm(&parts)
        // Whole milliseconds, so two imports of one value give the same Double.
        return Double(Int64(whole) * 1000 + Int64(millis)) / 1000
    }
}
