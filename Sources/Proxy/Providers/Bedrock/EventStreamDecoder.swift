import NIOCore

/// One header value of an event-stream message; the wire type byte is the case.
enum EventStreamHeaderValue: Sendable, Equatable {
    case bool(Bool)
    case byte(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case bytes([UInt8])
    case string(String)
    /// Milliseconds since the Unix epoch.
    case timestamp(Int64)
    case uuid([UInt8])
}

/// One decoded `application/vnd.amazon.eventstream` message, both checksums verified.
struct EventStreamMessage: Sendable, Equatable {
    var headers: [String: EventStreamHeaderValue]
    var payload: [UInt8]

    /// A string header's value (`:message-type`, `:event-type`, `:exception-type`, …).
    func string(_ name: String) -> String? {
        if case .string(let value)? = headers[name] { return value }
        return nil
    }
}

enum EventStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    case preludeChecksumMismatch
    case messageChecksumMismatch
    /// A declared length that cannot be right, or is over the gateway's bound.
    case invalidLength(total: Int, headers: Int)
    case malformedHeaders(String)
    /// The stream ended inside a message.
    case truncated(bufferedBytes: Int)

    var description: String {
        switch self {
        case .preludeChecksumMismatch: "a frame's prelude CRC-32 does not match"
        case .messageChecksumMismatch: "a frame's message CRC-32 does not match"
        case .invalidLength(let total, let headers):
            "a frame declares \(total) bytes with \(headers) bytes of headers, which is not a valid frame"
        case .malformedHeaders(let reason): "a frame's headers are malformed (\(reason))"
        case .truncated(let count): "the stream ended \(count) bytes into an unfinished frame"
        }
    }
}

/// Incremental decoder for AWS's binary event-stream framing
/// (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html), as
/// Bedrock's ConverseStream sends it. Bytes may arrive split anywhere; a message is returned
/// once all of it is here and both CRCs check out. Frames over botocore's limits (128 KiB of
/// headers, 24 MiB of payload) are refused before they are buffered, so a hostile upstream
/// cannot grow memory without bound.
///
/// Frame: `total_length` u32, `headers_length` u32, prelude CRC u32 (of the first 8 bytes),
/// headers, payload, message CRC u32 (of everything before it); all big-endian.
struct EventStreamDecoder: Sendable {
    static let preludeLength = 12
    static let checksumLength = 4
    static let maxHeadersLength = 128 * 1024
    static let maxPayloadLength = 24 * 1024 * 1024

    private var buffer = ByteBuffer()
    /// The current frame's lengths, once its prelude has been read and checked.
    private var pending: (total: Int, headers: Int)?

    mutating func feed(_ input: ByteBuffer) throws(EventStreamError) -> [EventStreamMessage] {
        var input = input
        buffer.writeBuffer(&input)
        var messages: [EventStreamMessage] = []
        while let message = try next() { messages.append(message) }
        // Only the unfinished frame's bytes are kept (and moved to the front).
        if buffer.readerIndex > 0 { buffer.discardReadBytes() }
        return messages
    }

    /// At end of stream: anything still buffered is a frame cut short.
    func finish() throws(EventStreamError) {
        guard buffer.readableBytes == 0 else { throw .truncated(bufferedBytes: buffer.readableBytes) }
    }

    private mutating func next() throws(EventStreamError) -> EventStreamMessage? {
        if pending == nil {
            guard buffer.readableBytes >= Self.preludeLength else { return nil }
            pending = try readPrelude()
        }
        guard let lengths = pending, buffer.readableBytes >= lengths.total,
            var frame = buffer.readSlice(length: lengths.total)
        else { return nil }
        pending = nil
        let (total, headersLength) = lengths
        let crcOffset = frame.readerIndex + total - Self.checksumLength
        guard let expected = frame.getInteger(at: crcOffset, as: UInt32.self),
            CRC32.checksum(frame.readableBytesView.prefix(total - Self.checksumLength)) == expected
        else { throw .messageChecksumMismatch }
        frame.moveReaderIndex(forwardBy: Self.preludeLength)
        guard var headerBytes = frame.readSlice(length: headersLength),
            let payload = frame.readBytes(length: total - headersLength - Self.preludeLength - Self.checksumLength)
        else { throw .invalidLength(total: total, headers: headersLength) }
        return EventStreamMessage(headers: try Self.parseHeaders(&headerBytes), payload: payload)
    }

    /// Reads and checks the prelude without consuming it (the message CRC covers it too).
    private func readPrelude() throws(EventStreamError) -> (total: Int, headers: Int) {
        let start = buffer.readerIndex
        guard let total = buffer.getInteger(at: start, as: UInt32.self),
            let headers = buffer.getInteger(at: start + 4, as: UInt32.self),
            let crc = buffer.getInteger(at: start + 8, as: UInt32.self)
        else { throw .truncated(bufferedBytes: buffer.readableBytes) }
        guard CRC32.checksum(buffer.readableBytesView.prefix(8)) == crc else { throw .preludeChecksumMismatch }
        let overhead = Self.preludeLength + Self.checksumLength
        guard Int(headers) <= Self.maxHeadersLength, Int(total) >= overhead + Int(headers),
            Int(total) - overhead - Int(headers) <= Self.maxPayloadLength
        else { throw .invalidLength(total: Int(total), headers: Int(headers)) }
        return (Int(total), Int(headers))
    }

    /// `name_len` u8, name, type u8, value; repeated until the headers are used up.
    static func parseHeaders(_ bytes: inout ByteBuffer) throws(EventStreamError) -> [String: EventStreamHeaderValue] {
        var headers: [String: EventStreamHeaderValue] = [:]
        while bytes.readableBytes > 0 {
            guard let nameLength = bytes.readInteger(as: UInt8.self), nameLength > 0,
                let name = bytes.readString(length: Int(nameLength)), let type = bytes.readInteger(as: UInt8.self)
            else { throw .malformedHeaders("a header name runs past the headers") }
            headers[name] = try readValue(type: type, from: &bytes, name: name)
        }
        return headers
    }

    private static func readValue(type: UInt8, from bytes: inout ByteBuffer, name: String)
        throws(EventStreamError) -> EventStreamHeaderValue
    {
        let value: EventStreamHeaderValue?
        switch type {
        case 0: value = .bool(true)
        case 1: value = .bool(false)
        case 2: value = bytes.readInteger(as: Int8.self).map(EventStreamHeaderValue.byte)
        case 3: value = bytes.readInteger(as: Int16.self).map(EventStreamHeaderValue.int16)
        case 4: value = bytes.readInteger(as: Int32.self).map(EventStreamHeaderValue.int32)
        case 5: value = bytes.readInteger(as: Int64.self).map(EventStreamHeaderValue.int64)
        case 6:
            value = bytes.readInteger(as: UInt16.self).flatMap { bytes.readBytes(length: Int($0)) }
                .map(EventStreamHeaderValue.bytes)
        case 7:
            value = bytes.readInteger(as: UInt16.self).flatMap { bytes.readString(length: Int($0)) }
                .map(EventStreamHeaderValue.string)
        case 8: value = bytes.readInteger(as: Int64.self).map(EventStreamHeaderValue.timestamp)
        case 9: value = bytes.readBytes(length: 16).map(EventStreamHeaderValue.uuid)
        default: throw .malformedHeaders("header '\(name)' has unknown value type \(type)")
        }
        guard let value else { throw .malformedHeaders("header '\(name)' runs past the headers") }
        return value
    }
}
