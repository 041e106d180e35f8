/// Incremental splitter for newline-delimited JSON (`application/x-ndjson`, Ollama's stream
/// framing). Works on bytes, so a line or a multi-byte character split across
/// network reads is reassembled before anything is decoded. Lines end at `\n`; a `\r` before it
/// is dropped, and blank lines are skipped. It only frames lines: parsing the JSON is the caller's.
public struct NDJSONDecoder: Sendable {
    /// A single line longer than this is refused, so a hostile upstream cannot grow memory forever.
    public static let defaultMaxLineLength = 16 * 1024 * 1024

    public let maxLineLength: Int
    private var line: [UInt8] = []

    public init(maxLineLength: Int = NDJSONDecoder.defaultMaxLineLength) {
        self.maxLineLength = maxLineLength
    }

    /// Feeds bytes; returns the non-blank lines completed by them, without their line endings.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(GatewayError) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == 0x0A {
                if let completed = takeLine() { lines.append(completed) }
            } else {
                guard line.count < maxLineLength else { throw SSEDecoder.lineTooLong }
                line.append(byte)
            }
        }
        return lines
    }

    /// At end of stream: a last line without its `\n` is still a line (servers may close right
    /// after writing it).
    public mutating func finish() -> [UInt8]? {
        takeLine()
    }

    private mutating func takeLine() -> [UInt8]? {
        defer { line.removeAll(keepingCapacity: true) }
        var end = line.endIndex
        if end > line.startIndex, line[end - 1] == 0x0D { end -= 1 }
        let isBlank = line[..<end].allSatisfy { $0 == 0x20 || $0 == 0x09 }
        return isBlank ? nil : Array(line[..<end])
    }
}
