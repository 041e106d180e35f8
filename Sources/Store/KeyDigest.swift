import Crypto

/// A key as the gateway keeps it: its SHA-256, never the key itself.
public struct KeyDigest: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(key: String) {
        bytes = Array(SHA256.hash(data: Array(key.utf8)))
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares in time independent of where the digests differ.
    public func matches(_ other: KeyDigest) -> Bool {
        guard bytes.count == other.bytes.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(bytes, other.bytes) { difference |= a ^ b }
        return difference == 0
    }
}
