#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address, as the egress checks compare them. IPv4 text is read the way
/// `inet_aton` (and so `getaddrinfo`, and so the HTTP client) reads it, odd spellings included:
/// `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1. Reading them any other way
/// would let a destination pass the check as a name and then connect to loopback.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    /// An address literal: IPv4 in any `inet_aton` spelling, or IPv6 with or without brackets.
    public init?(_ text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let v4 = Self.parseV4(text) {
            self = .v4(v4)
        } else if text.contains(":"), let v6 = Self.parseV6(String(text)) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for; else self.
    /// Allow-lists written for IPv4 then match the same connection made over IPv6.
    public var unmapped: IPAddress {
        if case .v6(let value) = self, value >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: value)) }
        return self
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xFF) }.joined(separator: ".")
        case .v6(let value):
            return (0..<8).map { String((value >> (112 - 16 * UInt128($0))) & 0xFFFF, radix: 16) }.joined(separator: ":")
        }
    }

    /// `inet_aton`'s forms: one to four parts separated by dots, each decimal, octal (leading `0`)
    /// or hexadecimal (`0x`); the last part fills the bytes the others leave.
    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = parsePart(part) else { return nil }
            values.append(value)
        }
        var address: UInt64 = 0
        for (index, value) in values.dropLast().enumerated() {
            guard value <= 0xFF else { return nil }
            address |= value << (24 - 8 * UInt64(index))
        }
        let lastBits = 8 * UInt64(5 - values.count)
        guard let last = values.last, last < (1 << lastBits) else { return nil }
        return UInt32(address | last)
    }

    /// One part: bounded, so no spelling can overflow.
    private static func parsePart(_ part: Substring) -> UInt64? {
        var digits = part
        var radix: UInt64 = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
            // `0x` alone is 0 to inet_aton.
            if digits.isEmpty { return 0 }
        } else if digits.count > 1 && digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 32 else { return nil }
        var value: UInt64 = 0
        for character in digits {
            guard character.isASCII, let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
            value = value * radix + UInt64(digit)
            guard value <= UInt64(UInt32.max) else { return nil }
        }
        return value
    }

    static func parseV6(_ text: String) -> UInt128? {
        var storage = in6_addr()
        guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
        return withUnsafeBytes(of: &storage) { bytes in bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }
    }
}

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    /// `ADDRESS/PREFIX`, or one address (a /32 or /128). Nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        let width = address.bitWidth
        var prefix = width
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isASCII), let given = Int(parts[1]), (0...width).contains(given) else { return nil }
            prefix = given
        }
        self.init(address, prefix: prefix)
    }

    public init(_ address: IPAddress, prefix: Int) {
        self.address = address.unmapped
        // A mapped IPv6 range written for IPv4 addresses keeps its IPv4 meaning.
        if case .v6 = address, case .v4 = self.address {
            self.prefix = max(0, prefix - 96)
        } else {
            self.prefix = prefix
        }
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate.unmapped) {
        case (.v4(let network), .v4(let value)):
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
            return network & mask == value & mask
        case (.v6(let network), .v6(let value)):
            let mask: UInt128 = prefix == 0 ? 0 : ~UInt128(0) << UInt128(128 - prefix)
            return network & mask == value & mask
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefix)" }
}

extension IPAddress {
    var bitWidth: Int {
        if case .v4 = self { return 32 }
        return 128
    }
}
