import Foundation
import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// Builds event-stream frames the way make_eventstream.py does, with any header value types.
enum EventStreamFrame {
    static func make(headers: [(name: String, type: UInt8, value: [UInt8])], payload: [UInt8]) -> [UInt8] {
        var headerBytes: [UInt8] = []
        for header in headers {
            headerBytes.append(UInt8(header.name.utf8.count))
            headerBytes += Array(header.name.utf8)
            headerBytes.append(header.type)
            headerBytes += header.value
        }
        let total = 12 + headerBytes.count + payload.count + 4
        var frame = bigEndian(UInt32(total)) + bigEndian(UInt32(headerBytes.count))
        frame += bigEndian(CRC32.checksum(frame))
        frame += headerBytes + payload
        return frame + bigEndian(CRC32.checksum(frame))
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// The lengths of the frames in a stream, read from their preludes.
    static func lengths(_ bytes: [UInt8]) -> [Int] {
        var lengths: [Int] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            lengths.append(length)
            offset += length
        }
        return lengths
    }
}

@Suite struct EventStreamDecoderTests {
    @Test func crc32KnownValues() throws {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        let bytes = try Fixture.bytes("bedrock/converse-stream.bin")
        #expect(CRC32.checksum(bytes[0..<8]) == 0x96D5_FADE)
        #expect(CRC32.checksum(bytes[0..<114]) == 0x6FA8_C599)
    }

    /// Fed one byte at a time (every split at once), the fixture decodes to exactly the frames
    /// listed in its readable copy.
    @Test func decodesTheFixtureOneByteAtATime() throws {
        let bytes = try Fixture.bytes("bedrock/converse-stream.bin")
        let lines = try String(decoding: Fixture.bytes("bedrock/converse-stream.events.jsonl"), as: UTF8.self)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.count == 19)
        var decoder = EventStreamDecoder()
        var messages: [EventStreamMessage] = []
        for byte in bytes { messages += try decoder.feed(ByteBuffer(bytes: [byte])) }
        try decoder.finish()
        #expect(messages.count == lines.count)
        for (message, line) in zip(messages, lines) {
            let expectedHeaders = (line["headers"]?.objectValue?.members ?? []).map { ($0.key, $0.value.stringValue ?? "") }
            #expect(
                message.headers
                    == Dictionary(uniqueKeysWithValues: expectedHeaders.map { ($0.0, EventStreamHeaderValue.string($0.1)) }))
            #expect(try JSONParser.parse(message.payload) == line["payload"])
        }
        var whole = EventStreamDecoder()
        #expect(try whole.feed(ByteBuffer(bytes: bytes)) == messages)
    }

    @Test func decodesEveryHeaderValueType() throws {
        let uuid = (0..<16).map { UInt8($0) }
        let all: [(name: String, type: UInt8, value: [UInt8])] = [
            ("t", 0, []), ("f", 1, []), ("b", 2, [0xFF]), ("s", 3, EventStreamFrame.bigEndian(Int16(-2))),
            ("i", 4, EventStreamFrame.bigEndian(Int32(70_000))), ("l", 5, EventStreamFrame.bigEndian(Int64(-5_000_000_000))),
            ("y", 6, [0, 3, 1, 2, 3]), ("str", 7, [0, 3] + Array("hé".utf8)),
            ("ts", 8, EventStreamFrame.bigEndian(Int64(1_795_608_000_000))), ("u", 9, uuid),
        ]
        let frame = EventStreamFrame.make(headers: all, payload: Array("{}".utf8))
        var decoder = EventStreamDecoder()
        let messages = try decoder.feed(ByteBuffer(bytes: frame))
        let headers = try #require(messages.first?.headers)
        #expect(headers["t"] == .bool(true) && headers["f"] == .bool(false) && headers["b"] == .byte(-1))
        #expect(headers["s"] == .int16(-2) && headers["i"] == .int32(70_000) && headers["l"] == .int64(-5_000_000_000))
        #expect(headers["y"] == .bytes([1, 2, 3]) && headers["str"] == .string("hé"))
        #expect(headers["ts"] == .timestamp(1_795_608_000_000) && headers["u"] == .uuid(uuid))
        #expect(messages.first?.payload == Array("{}".utf8))
    }

    @Test func rejectsACorruptPreludeChecksum() throws {
        var bytes = try Fixture.bytes("bedrock/converse-stream.bin")
        bytes[9] ^= 0x01
        var decoder = EventStreamDecoder()
        #expect(throws: EventStreamError.preludeChecksumMismatch) { try decoder.feed(ByteBuffer(bytes: bytes)) }
    }

    @Test func rejectsACorruptMessageChecksum() throws {
        var bytes = try Fixture.bytes("bedrock/converse-stream.bin")
        bytes[100] ^= 0x20  // inside frame 1's payload
        var decoder = EventStreamDecoder()
        #expect(throws: EventStreamError.messageChecksumMismatch) { try decoder.feed(ByteBuffer(bytes: bytes)) }
    }

    @Test func truncatedStreamFailsAtFinish() throws {
        let bytes = try Fixture.bytes("bedrock/converse-stream.bin")
        var decoder = EventStreamDecoder()
        let messages = try decoder.feed(ByteBuffer(bytes: bytes.dropLast(5)))
        #expect(messages.count == 18)
        #expect(throws: EventStreamError.truncated(bufferedBytes: (EventStreamFrame.lengths(bytes).last ?? 0) - 5)) {
            try decoder.finish()
        }
    }

    /// A frame over the bound is refused from its prelude, before its bytes are buffered.
    @Test func refusesOversizedAndMalformedFrames() throws {
        var prelude = EventStreamFrame.bigEndian(UInt32(64 * 1024 * 1024)) + EventStreamFrame.bigEndian(UInt32(10))
        prelude += EventStreamFrame.bigEndian(CRC32.checksum(prelude))
        var decoder = EventStreamDecoder()
        #expect(throws: EventStreamError.invalidLength(total: 64 * 1024 * 1024, headers: 10)) {
            try decoder.feed(ByteBuffer(bytes: prelude))
        }
        var tooShort = EventStreamFrame.bigEndian(UInt32(20)) + EventStreamFrame.bigEndian(UInt32(10))
        tooShort += EventStreamFrame.bigEndian(CRC32.checksum(tooShort))
        var second = EventStreamDecoder()
        #expect(throws: EventStreamError.invalidLength(total: 20, headers: 10)) { try second.feed(ByteBuffer(bytes: tooShort)) }
        let unknownType = EventStreamFrame.make(headers: [("x", 42, [])], payload: [])
        var third = EventStreamDecoder()
        #expect(throws: EventStreamError.malformedHeaders("header 'x' has unknown value type 42")) {
            try third.feed(ByteBuffer(bytes: unknownType))
        }
        let overrun = EventStreamFrame.make(headers: [("x", 7, [0, 9, 65])], payload: [])
        var fourth = EventStreamDecoder()
        #expect(throws: EventStreamError.self) { try fourth.feed(ByteBuffer(bytes: overrun)) }
    }
}
