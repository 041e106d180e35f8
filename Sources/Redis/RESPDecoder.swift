import NIOCore

/// Incremental RESP2 decoder (https://redis.io/docs/latest/develop/reference/protocol-spec/).
///
/// `decode` reads one whole reply or nothing: when the buffer ends inside a frame it leaves the buffer
/// untouched and returns nil, and the next read appends the rest. Limits keep a hostile or broken server
/// from exhausting memory or the stack: such input is a `.protocolViolation`, never a crash.
public struct RESPDecoder: Sendable {
    /// Redis's own `proto-max-bulk-len` default.
    public static let defaultMaximumBulkLength = 512 * 1024 * 1024
    public static let defaultMaximumDepth = 64
    /// Longest simple string, error or header line; a line without CRLF beyond it is refused.
    public static let defaultMaximumLineLength = 1024 * 1024

    public var maximumBulkLength: Int
    public var maximumDepth: Int
    public var maximumLineLength: Int

    public init(
        maximumBulkLength: Int = Self.defaultMaximumBulkLength,
        maximumDepth: Int = Self.defaultMaximumDepth,
        maximumLineLength: Int = Self.defaultMaximumLineLength
    ) {
        self.maximumBulkLength = maximumBulkLength
        self.maximumDepth = maximumDepth
        self.maximumLineLength = maximumLineLength
    }

    /// One complete reply from the front of `buffer` (consumed), or nil when more bytes are needed.
    public func decode(_ buffer: inout ByteBuffer) throws(RedisError) -> RESPValue? {
        let view = buffer.readableBytesView
        var index = view.startIndex
        guard let value = try self.parse(view, at: &index, depth: 1) else { return nil }
        buffer.moveReaderIndex(forwardBy: index - view.startIndex)
        return value
    }

    private func parse(_ bytes: ByteBufferView, at index: inout Int, depth: Int) throws(RedisError) -> RESPValue? {
        guard index < bytes.endIndex else { return nil }
        let type = bytes[index]
        var cursor = index + 1
        guard let line = try self.line(bytes, at: &cursor) else { return nil }
        let value: RESPValue
        switch type {
        case UInt8(ascii: "+"):
            value = .simpleString(String(decoding: bytes[line], as: UTF8.self))
        case UInt8(ascii: "-"):
            value = .error(String(decoding: bytes[line], as: UTF8.self))
        case UInt8(ascii: ":"):
            value = .integer(try Self.integer(bytes[line]))
        case UInt8(ascii: "$"):
            let length = try Self.integer(bytes[line])
            if length == -1 {
                value = .null
                break
            }
            guard length >= 0 else { throw Self.violation("negative bulk string length \(length)") }
            guard length <= self.maximumBulkLength else {
                throw Self.violation("bulk string of \(length) bytes exceeds the limit of \(self.maximumBulkLength)")
            }
            let count = Int(length)
            guard bytes.endIndex - cursor >= count + 2 else { return nil }
            let end = cursor + count
            guard bytes[end] == UInt8(ascii: "\r"), bytes[end + 1] == UInt8(ascii: "\n") else {
                throw Self.violation("bulk string not terminated by CRLF")
            }
            value = .bulkString(Array(bytes[cursor..<end]))
            cursor = end + 2
        case UInt8(ascii: "*"):
            let count = try Self.integer(bytes[line])
            if count == -1 {
                value = .null
                break
            }
            guard count >= 0 else { throw Self.violation("negative array length \(count)") }
            guard count <= Int32.max else { throw Self.violation("array length \(count) exceeds the limit") }
            guard depth <= self.maximumDepth else {
                throw Self.violation("arrays nested deeper than \(self.maximumDepth)")
            }
            var elements: [RESPValue] = []
            // Never trust the announced count for allocation: an element takes at least 3 bytes.
            elements.reserveCapacity(min(Int(count), (bytes.endIndex - cursor) / 3))
            for _ in 0..<count {
                guard let element = try self.parse(bytes, at: &cursor, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            value = .array(elements)
        default:
            throw Self.violation("unexpected type byte 0x\(String(type, radix: 16)) (not a RESP2 reply)")
        }
        index = cursor
        return value
    }

    /// The range of the line starting at `cursor` (without CRLF); moves `cursor` past the CRLF.
    private func line(_ bytes: ByteBufferView, at cursor: inout Int) throws(RedisError) -> Range<Int>? {
        let start = cursor
        var position = start
        while position < bytes.endIndex {
            guard position - start <= self.maximumLineLength else {
                throw Self.violation("line longer than \(self.maximumLineLength) bytes")
            }
            if bytes[position] == UInt8(ascii: "\r") {
                guard position + 1 < bytes.endIndex else { return nil }
                guard bytes[position + 1] == UInt8(ascii: "\n") else { throw Self.violation("CR without LF") }
                cursor = position + 2
                return start..<position
            }
            position += 1
        }
        return nil
    }

    /// A strict decimal Int64: optional "-", then at least one digit; overflow is refused.
    private static func integer(_ digits: ByteBufferView.SubSequence) throws(RedisError) -> Int64 {
        var rest = digits[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        guard !rest.isEmpty, rest.count <= 19 else { throw Self.violation("invalid integer") }
        var value: Int64 = 0
        for byte in rest {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw Self.violation("invalid integer") }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw Self.violation("integer out of range") }
            value = sum
        }
        return value
    }

    private static func violation(_ reason: String) -> RedisError {
        RedisError(kind: .protocolViolation, message: "malformed reply from the server: \(reason)")
    }
}

extension RESPDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RESPValue

    public mutating func decode(buffer: inout ByteBuffer) throws -> RESPValue? {
        try self.decode(&buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try self.decode(&buffer)
    }
}
