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

    /// `data:` lines each under the line bound, and never the blank line that ends the event:
    /// the event's size is bounded, and so is what `finish()` can return.
    @Test func eventSizeIsBounded() throws {
        var decoder = SSEDecoder(maxLineLength: 64, maxEventSize: 32)
        let line = Array("data: 0123456789\n".utf8)
        _ = try decoder.feed(line + line)  // 10 + 1 + 10 bytes of data so far
        #expect(throws: SSEDecoder.eventTooLarge) { try decoder.feed(line) }
        // The same bytes split across events are fine: the bound is per event.
        var separate = SSEDecoder(maxLineLength: 64, maxEventSize: 32)
        let events = try separate.feed(Array(repeating: line + [0x0A], count: 10).joined())
        #expect(events.count == 10 && events.allSatisfy { $0.data == Array("0123456789".utf8) })
        // An unterminated last event never gets past the bound either.
        var tail = SSEDecoder(maxLineLength: 64, maxEventSize: 32)
        #expect(throws: SSEDecoder.eventTooLarge) { try tail.feed(line + line + Array("data: 0123456789".utf8)) }
        #expect(SSEDecoder.defaultMaxEventSize == 16 * 1024 * 1024)
    }

    /// An unterminated line is bounded, at the configured length, across reads too.
    @Test func lineLengthIsBounded() throws {
        var decoder = SSEDecoder(maxLineLength: 8)
        #expect(try decoder.feed(Array("data: ab\n\n".utf8)) == [SSEEvent(event: nil, data: Array("ab".utf8))])
        _ = try decoder.feed(Array(": 345".utf8))
        #expect(throws: SSEDecoder.lineTooLong) { try decoder.feed(Array("6789".utf8)) }
    }

    /// Over-long events surface as the upstream's fault (a 502 before the head, a stream error after).
    @Test func boundErrorsAreBadUpstreamResponses() {
        #expect(SSEDecoder.eventTooLarge.status == 502 && SSEDecoder.eventTooLarge.code == "bad_upstream_response")
    }

    @Test func eventWithoutDataIsNotDispatched() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("event: ping\n\n".utf8)).isEmpty)
    }
}
