import Testing

@testable import Proxy

@Suite struct SSEDecoderTests {
    static let stream = Array(
        "data: {\"a\":\"naïve café ☕ 日本語\"}\r\n\r\n: keep-alive comment\n\nevent: delta\ndata: line one\ndata: line two\n\ndata:no-space\r\rdata: [DONE]\n\n"
            .utf8)
    static let expected = [
        SSEEvent(event: nil, data: Array("{\"a\":\"naïve café ☕ 日本語\"}".utf8)),
        SSEEvent(event: "delta", data: Array("line one\nline two".utf8)),
        SSEEvent(event: nil, data: Array("no-space".utf8)),
        SSEEvent(event: nil, data: Array("[DONE]".utf8)),
    ]

    @Test func wholeStream() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Self.stream) == Self.expected)
        #expect(decoder.finish() == nil)
    }

    /// Every split point, including inside `\r\n` and inside multi-byte UTF-8 characters.
    @Test func splitAtEveryByteBoundary() throws {
        for cut in 0...Self.stream.count {
            var decoder = SSEDecoder()
            let events = try decoder.feed(Self.stream[..<cut]) + decoder.feed(Self.stream[cut...])
            #expect(events == Self.expected, "split at \(cut)")
        }
    }

    @Test func oneByteAtATime() throws {
        var decoder = SSEDecoder()
        var events: [SSEEvent] = []
        for byte in Self.stream { events += try decoder.feed([byte]) }
        #expect(events == Self.expected)
        let text = String(decoding: events[0].data, as: UTF8.self)
        #expect(text.contains("日本語"))
    }

    @Test func unterminatedLastEventIsDispatchedAtEnd() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("data: tail".utf8)).isEmpty)
        #expect(decoder.finish() == SSEEvent(event: nil, data: Array("tail".utf8)))
    }

    @Test func eventWithoutDataIsNotDispatched() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("event: ping\n\n".utf8)).isEmpty)
    }
}
