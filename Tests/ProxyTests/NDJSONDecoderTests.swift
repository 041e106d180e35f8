import Testing

@testable import Proxy

@Suite struct NDJSONDecoderTests {
    /// CRLF and LF endings, blank and whitespace-only lines, multi-byte characters.
    static let stream =
        Array("{\"a\":\"naïve café ☕ 日本語\"}\r\n\n{\"b\":2}\n  \t\r\n{\"c\":[1,\n".utf8)
        + Array("2]}\n{\"d\":\"tail\"}".utf8)
    static let expected = [
        Array("{\"a\":\"naïve café ☕ 日本語\"}".utf8), Array("{\"b\":2}".utf8), Array("{\"c\":[1,".utf8), Array("2]}".utf8),
    ]

    @Test func wholeStream() throws {
        var decoder = NDJSONDecoder()
        #expect(try decoder.feed(Self.stream) == Self.expected)
        #expect(decoder.finish() == Array("{\"d\":\"tail\"}".utf8))
        #expect(decoder.finish() == nil)
    }

    /// One byte at a time splits at every boundary, inside `\r\n` and inside UTF-8 sequences.
    @Test func oneByteAtATime() throws {
        var decoder = NDJSONDecoder()
        var lines: [[UInt8]] = []
        for byte in Self.stream { lines += try decoder.feed([byte]) }
        #expect(lines == Self.expected)
        #expect(String(decoding: lines[0], as: UTF8.self).contains("日本語"))
        #expect(decoder.finish() == Array("{\"d\":\"tail\"}".utf8))
    }

    @Test func lineLengthIsBounded() throws {
        var decoder = NDJSONDecoder(maxLineLength: 8)
        #expect(try decoder.feed(Array("12345678\n".utf8)) == [Array("12345678".utf8)])
        #expect(throws: GatewayError.self) { try decoder.feed(Array("123456789".utf8)) }
        // The bound holds across reads too.
        var split = NDJSONDecoder(maxLineLength: 8)
        _ = try split.feed(Array("12345".utf8))
        #expect(throws: GatewayError.self) { try split.feed(Array("6789".utf8)) }
    }

    @Test func blankEndOfStreamIsNothing() throws {
        var decoder = NDJSONDecoder()
        #expect(try decoder.feed(Array("\n\r\n \n".utf8)).isEmpty)
        #expect(decoder.finish() == nil)
        _ = try decoder.feed(Array("  \r".utf8))
        #expect(decoder.finish() == nil)
    }
}
