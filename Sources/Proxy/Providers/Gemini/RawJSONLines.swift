import Telemetry

/// Gemini may send an error mid-stream as raw, possibly pretty-printed JSON that is not SSE-framed;
/// the google-genai SDK collects such lines until the braces balance, and so does this. Lines that do not open a JSON document (`data:`, comments, blank
/// lines) are the SSE decoder's and are skipped here.
struct RawJSONLines {
    private var line: [UInt8] = []
    private var document: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var lineEnding = LineEnding()

    var isCollecting: Bool { !document.isEmpty }

    mutating func feed(_ bytes: some Sequence<UInt8>) throws(GatewayError) -> [[UInt8]] {
        var documents: [[UInt8]] = []
        for byte in bytes {
            switch lineEnding.classify(byte) {
            case .skip:
                continue
            case .end:
                if let document = endLine() { documents.append(document) }
            case .content:
                guard line.count + document.count < SSEDecoder.maxLineLength else {
                    throw .badUpstreamResponse("The upstream stream sent a JSON document larger than the gateway accepts.")
                }
                line.append(byte)
            }
        }
        return documents
    }

    private mutating func endLine() -> [UInt8]? {
        defer { line.removeAll(keepingCapacity: true) }
        if document.isEmpty {
            let first = line.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        }
        for byte in line {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        document += line
        document.append(0x0A)
        guard depth <= 0 else { return nil }
        defer {
            document.removeAll(keepingCapacity: true)
            depth = 0
            inString = false
            escaped = false
        }
        return document
    }
}
