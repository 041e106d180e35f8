/// A W3C trace id: 16 bytes, never all zero.
public struct TraceID: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init?(high: UInt64, low: UInt64) {
        guard high != 0 || low != 0 else { return nil }
        self.high = high
        self.low = low
    }

    public static func random() -> TraceID {
        var generator = SystemRandomNumberGenerator()
        while true {
            if let id = TraceID(high: generator.next(), low: generator.next()) { return id }
        }
    }

    /// Parses 32 lower-case hex digits (the only form W3C allows on the wire).
    public init?(hex: Substring) {
        guard hex.utf8.count == 32,
            let high = HexCoding.parseUInt64(hex.utf8.prefix(16)),
            let low = HexCoding.parseUInt64(hex.utf8.dropFirst(16))
        else { return nil }
        self.init(high: high, low: low)
    }

    public var bytes: [UInt8] { HexCoding.bigEndianBytes(high) + HexCoding.bigEndianBytes(low) }
    public var hex: String { HexCoding.hex(high) + HexCoding.hex(low) }
    public var description: String { hex }
}

/// A W3C span (parent) id: 8 bytes, never all zero.
public struct SpanID: Sendable, Hashable, CustomStringConvertible {
    public let value: UInt64

    public init?(_ value: UInt64) {
        guard value != 0 else { return nil }
        self.value = value
    }

    public static func random() -> SpanID {
        var generator = SystemRandomNumberGenerator()
        while true {
            if let id = SpanID(generator.next()) { return id }
        }
    }

    public init?(hex: Substring) {
        guard hex.utf8.count == 16, let value = HexCoding.parseUInt64(hex.utf8) else { return nil }
        self.init(value)
    }

    public var bytes: [UInt8] { HexCoding.bigEndianBytes(value) }
    public var hex: String { HexCoding.hex(value) }
    public var description: String { hex }
}

enum HexCoding {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex only: W3C trace context forbids upper case.
    static func parseUInt64(_ utf8: some Collection<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in utf8 {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    static func hex(_ value: UInt64) -> String {
        var out = [UInt8](repeating: 0, count: 16)
        var v = value
        for i in stride(from: 15, through: 0, by: -1) {
            out[i] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bigEndianBytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }
}
