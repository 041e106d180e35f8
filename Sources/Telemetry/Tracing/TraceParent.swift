/// The W3C `traceparent` header: `00-<trace-id>-<parent-id>-<flags>`.
public struct TraceParent: Sendable, Hashable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var flags: UInt8

    public init(traceID: TraceID, spanID: SpanID, flags: UInt8) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    public var sampled: Bool { flags & 0x01 != 0 }

    /// Parses a header value; nil for anything invalid, in which case the caller starts a new trace.
    /// Future versions are read by their version-00 prefix, as the specification asks.
    public init?(header: String) {
        let utf8 = Array(header.utf8)
        guard utf8.count >= 55,
            let version = HexCoding.parseUInt64(utf8[0..<2]), version != 0xFF,
            utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"), utf8[52] == UInt8(ascii: "-")
        else { return nil }
        if version == 0 && utf8.count != 55 { return nil }
        if version != 0 && utf8.count > 55 && utf8[55] != UInt8(ascii: "-") { return nil }
        let text = Substring(header)
        let start = text.startIndex
        func slice(_ from: Int, _ to: Int) -> Substring {
            text[text.utf8.index(start, offsetBy: from)..<text.utf8.index(start, offsetBy: to)]
        }
        guard let traceID = TraceID(hex: slice(3, 35)),
            let spanID = SpanID(hex: slice(36, 52)),
            let flags = HexCoding.parseUInt64(utf8[53..<55])
        else { return nil }
        self.init(traceID: traceID, spanID: spanID, flags: UInt8(flags))
    }

    public var header: String {
        let flagsHex = String(HexCoding.hex(UInt64(flags)).suffix(2))
        return "00-\(traceID.hex)-\(spanID.hex)-\(flagsHex)"
    }
}
