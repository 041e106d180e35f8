/// One server-sent event.
public struct SSEEvent: Sendable, Equatable {
    public var event: String?
    /// The `data` lines joined with `\n`, as raw UTF-8 bytes.
    public var data: [UInt8]
}

/// Incremental decoder for `text/event-stream` (WHATWG HTML, "event stream interpretation").
/// Works on bytes, so a frame or a multi-byte character split across network reads is reassembled
/// before anything is decoded; a CR at the end of one read and LF at the start of the next are one
/// line ending, not two.
public struct SSEDecoder: Sendable {
    /// A single line longer than this is refused, so a hostile upstream cannot grow memory forever.
    public static let maxLineLength = 16 * 1024 * 1024
    /// One event's `data` (all its lines, joined) may not grow past this: without it an upstream
    /// could send `data:` lines, each under the line bound, and never the blank line that ends
    /// the event.
    public static let defaultMaxEventSize = 16 * 1024 * 1024
    static let lineTooLong = GatewayError.badUpstreamResponse("The upstream stream has a line longer than the gateway accepts.")
    static let eventTooLarge = GatewayError.badUpstreamResponse(
        "The upstream stream sent an event larger than the gateway accepts.")

    public let maxLineLength: Int
    public let maxEventSize: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var event: String?
    private var lineEnding = LineEnding()

    public init(maxLineLength: Int = SSEDecoder.maxLineLength, maxEventSize: Int = SSEDecoder.defaultMaxEventSize) {
        self.maxLineLength = maxLineLength
        self.maxEventSize = maxEventSize
    }

    /// Feeds bytes; returns the events completed by them.
    /// An over-long line or event is the upstream's fault: a 502 (or a stream error once the
    /// response has started), never unbounded memory.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(GatewayError) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            switch lineEnding.classify(byte) {
            case .skip:
                continue
            case .end:
                if let e = endLine() { events.append(e) }
            case .content:
                guard line.count < maxLineLength else { throw Self.lineTooLong }
                // The pending line may still become data, so it counts against the event too;
                // checked here, `finish()` can never go past the bound either.
                guard data.count + line.count < maxEventSize else { throw Self.eventTooLarge }
                line.append(byte)
            }
        }
        return events
    }

    /// At end of stream: an event not terminated by a blank line is dispatched anyway, because
    /// some upstreams close the connection right after their last `data:` line.
    public mutating func finish() -> SSEEvent? {
        if !line.isEmpty { _ = endLine() }
        return dispatch()
    }

    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = colon.map { Array(line[..<$0]) } ?? line
        var value = colon.map { Array(line[line.index(after: $0)...]) } ?? []
        if value.first == UInt8(ascii: " ") { value.removeFirst() }
        switch field {
        case Array("data".utf8):
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        case Array("event".utf8):
            event = String(decoding: value, as: UTF8.self)
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            event = nil
        }
        guard hasData else { return nil }
        return SSEEvent(event: event, data: data)
    }
}
