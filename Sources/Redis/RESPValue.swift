/// One RESP2 reply (https://redis.io/docs/latest/develop/reference/protocol-spec/).
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    /// The whole error line without the leading `-`, e.g. "NOSCRIPT No matching script. Please use EVAL.".
    case error(String)
    case integer(Int64)
    /// Binary-safe: Redis values need not be UTF-8.
    case bulkString([UInt8])
    /// RESP2 has two nulls, `$-1` and `*-1`; callers never need to tell them apart.
    case null
    case array([RESPValue])

    /// `.integer`, or a bulk or simple string that parses as `Int64` (`INCRBYFLOAT` and Lua replies are strings).
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString, .bulkString: self.string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// A simple or bulk string as UTF-8 (invalid sequences are repaired, not refused).
    public var string: String? {
        switch self {
        case .simpleString(let value): value
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The raw bytes of a bulk or simple string.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let value): Array(value.utf8)
        default: nil
        }
    }

    public var isNull: Bool { self == .null }
}
