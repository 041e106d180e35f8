import NIOCore

/// A `multipart/form-data` body (RFC 7578, delimiters per RFC 2046), as the audio endpoints
/// receive it. It is parsed in place: each part's body is a slice of the request's buffer, and the
/// body sent upstream is made of slices too, so an upload of tens of megabytes is never copied.
/// Array fields come as repeated `name[]` parts, as the OpenAI SDKs send them.
public struct MultipartForm: Sendable {
    public struct Part: Sendable, Equatable {
        public var name: String
        public var filename: String?
        public var contentType: String?
        /// A slice of the original buffer, sharing its storage.
        public var body: ByteBuffer
    }

    /// Bounds on what a client can make the parser build: the audio endpoints take a dozen fields.
    public static let maxParts = 64
    public static let maxHeaderBytes = 8 * 1024

    public private(set) var parts: [Part]
    /// The body's content type, boundary included: what the upstream is sent with the parts.
    public var contentType: String {
        let token = boundary.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || Array("'+_-.".utf8).contains(byte)
        }
        return "multipart/form-data; boundary=" + (token ? boundary : "\"\(boundary)\"")
    }

    private let boundary: String

    /// Offsets found by one pass over the bytes, before any slice is taken.
    private struct Layout {
        var parts: [Located] = []
    }

    private struct Located {
        var name: String
        var filename: String?
        var contentType: String?
        var body: Range<Int>
    }

    private static let crlf = Array("\r\n".utf8)
    private static let blankLine = Array("\r\n\r\n".utf8)
    private static let dashes = Array("--".utf8)

    public init(body: ByteBuffer, contentType: String) throws(GatewayError) {
        let boundary = try Self.boundary(of: contentType)
        let layout = try body.withUnsafeReadableBytes { (bytes: UnsafeRawBufferPointer) throws(GatewayError) -> Layout in
            try Self.scan(bytes, boundary: Array(boundary.utf8))
        }
        self.boundary = boundary
        self.parts = layout.parts.map {
            Part(name: $0.name, filename: $0.filename, contentType: $0.contentType, body: Self.slice(body, $0.body))
        }
    }

    /// The body to send upstream: every part's headers written anew from what the gateway read
    /// (so the provider cannot read a part differently from the gateway), each part's bytes a
    /// slice of the client's buffer, never copied, and the value of every part called by one of
    /// `fields` replaced (a client sending `model` twice cannot have the gateway route by one and
    /// the provider read the other). A field missing from the form is added, in name order.
    public func replacing(_ fields: [String: String]) -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        func header(_ name: String, filename: String?, contentType: String?) -> ByteBuffer {
            var text = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.escaped(name))\""
            if let filename { text += "; filename=\"\(Self.escaped(filename))\"" }
            if let contentType { text += "\r\nContent-Type: \(contentType)" }
            return ByteBuffer(string: text + "\r\n\r\n")
        }
        for part in parts {
            out.append(header(part.name, filename: part.filename, contentType: part.contentType))
            out.append(fields[part.name].map { ByteBuffer(string: $0) } ?? part.body)
            out.append(ByteBuffer(string: "\r\n"))
        }
        let present = Set(parts.map(\.name))
        for name in fields.keys.sorted() where !present.contains(name) {
            out.append(header(name, filename: nil, contentType: nil))
            out.append(ByteBuffer(string: (fields[name] ?? "") + "\r\n"))
        }
        out.append(ByteBuffer(string: "--\(boundary)--\r\n"))
        return out.filter { $0.readableBytes > 0 }
    }

    // MARK: - Parsing

    /// The `boundary` parameter of a `multipart/form-data` content-type, quoted or not.
    static func boundary(of contentType: String) throws(GatewayError) -> String {
        let (type, parameters) = headerParameters(contentType)
        guard type.lowercased() == "multipart/form-data" else {
            throw malformed("The request body must be multipart/form-data.")
        }
        guard let boundary = parameters.last(where: { $0.name == "boundary" })?.value else {
            throw malformed("The multipart/form-data content-type has no boundary parameter.")
        }
        guard (1...70).contains(boundary.utf8.count) else {
            throw malformed("The multipart/form-data boundary must be 1 to 70 characters long.")
        }
        return boundary
    }

    /// One pass over the body: each delimiter line, each part's headers, each part's body range.
    private static func scan(_ bytes: UnsafeRawBufferPointer, boundary: [UInt8]) throws(GatewayError) -> Layout {
        let dashBoundary = dashes + boundary
        let delimiter = crlf + dashBoundary
        // The first delimiter opens the body, or ends a preamble (which is ignored).
        var position: Int
        if matches(dashBoundary, in: bytes, at: 0) {
            position = 0
        } else if let found = find(delimiter, in: bytes, from: 0, to: bytes.count) {
            position = found + crlf.count
        } else {
            throw malformed("The multipart body does not contain its boundary.")
        }
        var layout = Layout()
        while true {
            position += dashBoundary.count
            if matches(dashes, in: bytes, at: position) {
                // The close delimiter; what follows is an epilogue, ignored.
                return layout
            }
            while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") {
                position += 1
            }
            guard matches(crlf, in: bytes, at: position) else {
                throw malformed("A boundary line of the multipart body is malformed.")
            }
            position += crlf.count
            guard layout.parts.count < maxParts else {
                throw malformed("The multipart body has more than \(maxParts) parts.")
            }
            guard let next = find(delimiter, in: bytes, from: position, to: bytes.count) else {
                throw malformed("The multipart body has no closing boundary.")
            }
            // An empty body puts the blank line's CRLF at the delimiter's, so the search runs to
            // two bytes past it.
            let limit = position + maxHeaderBytes + blankLine.count
            guard let headerEnd = find(blankLine, in: bytes, from: position, to: min(next + crlf.count, limit)) else {
                throw malformed(
                    next + crlf.count > limit
                        ? "A part of the multipart body has headers longer than \(maxHeaderBytes) bytes."
                        : "A part of the multipart body has no blank line after its headers.")
            }
            let headers = try partHeaders(Array(bytes[position..<headerEnd]))
            let bodyStart = min(headerEnd + blankLine.count, next)
            layout.parts.append(
                Located(name: headers.name, filename: headers.filename, contentType: headers.contentType, body: bodyStart..<next))
            position = next + crlf.count
        }
    }

    /// The name, filename and content type of a part, from its header lines.
    private static func partHeaders(_ block: [UInt8]) throws(GatewayError) -> (
        name: String, filename: String?, contentType: String?
    ) {
        var disposition: String?
        var contentType: String?
        var start = 0
        while start < block.count {
            var end = start
            while end < block.count, !(block[end] == 0x0D && end + 1 < block.count && block[end + 1] == 0x0A) { end += 1 }
            let line = block[start..<end]
            start = end + crlf.count
            guard !line.isEmpty else { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw malformed("A part of the multipart body has a malformed header line.")
            }
            let value = trimmed(line[(colon + 1)...])
            switch trimmed(line[..<colon]).lowercased() {
            case "content-disposition":
                // Two could be read either way by the gateway and the provider.
                guard disposition == nil else {
                    throw malformed("A part of the multipart body has two Content-Disposition headers.")
                }
                disposition = value
            case "content-type": contentType = value
            default: break
            }
        }
        guard let disposition else {
            throw malformed("A part of the multipart body has no Content-Disposition header.")
        }
        let (type, parameters) = headerParameters(disposition)
        let names = parameters.map(\.name)
        for parameter in ["name", "filename"] where names.filter({ $0 == parameter }).count > 1 || names.contains(parameter + "*")
        {
            throw malformed("A part of the multipart body names its '\(parameter)' twice or in an encoded form.")
        }
        let name = parameters.first { $0.name == "name" }?.value
        guard type.lowercased() == "form-data" else {
            throw .invalidRequest(
                "A part of the multipart body is not form-data.", param: name ?? "file")
        }
        guard let name else { throw malformed("A part of the multipart body has no name.") }
        let filename = parameters.first { $0.name == "filename" }?.value
        // A control character (a lone CR or LF, say) could not be written back as it was read.
        for text in [name, filename ?? "", contentType ?? ""]
        where text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw malformed(
                "A part of the multipart body has a control character in its name, filename or Content-Type.")
        }
        return (name: name, filename: filename, contentType: contentType)
    }

    /// `value; name=token; name="quoted \"text\""` as the value and its parameters, names in
    /// lower case. RFC 7578 senders escape `"` as `%22` and `\` as `\\`; the backslash is undone.
    static func headerParameters(_ text: String) -> (value: String, parameters: [(name: String, value: String)]) {
        let bytes = Array(text.utf8)
        let semicolon = UInt8(ascii: ";")
        var index = 0
        while index < bytes.count, bytes[index] != semicolon { index += 1 }
        let value = trimmed(bytes[..<index])
        var parameters: [(name: String, value: String)] = []
        while index < bytes.count {
            index += 1
            let nameStart = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "="), bytes[index] != semicolon { index += 1 }
            let name = trimmed(bytes[nameStart..<index]).lowercased()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { continue }
            index += 1
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var quoted: [UInt8] = []
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                    quoted.append(bytes[index])
                    index += 1
                }
                parameters.append((name: name, value: String(decoding: quoted, as: UTF8.self)))
                while index < bytes.count, bytes[index] != semicolon { index += 1 }
            } else {
                let valueStart = index
                while index < bytes.count, bytes[index] != semicolon { index += 1 }
                parameters.append((name: name, value: trimmed(bytes[valueStart..<index])))
            }
        }
        return (value, parameters)
    }

    // MARK: - Bytes

    /// The first `needle` lying wholly inside `start..<end`.
    private static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        guard let first = needle.first, end - start >= needle.count else { return nil }
        var index = start
        let last = end - needle.count
        while index <= last {
            if bytes[index] == first, matches(needle, in: bytes, at: index) { return index }
            index += 1
        }
        return nil
    }

    private static func matches(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, at index: Int) -> Bool {
        guard index >= 0, index + needle.count <= bytes.count else { return false }
        for offset in 0..<needle.count where bytes[index + offset] != needle[offset] { return false }
        return true
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice.removeFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { slice.removeLast() }
        return String(decoding: slice, as: UTF8.self)
    }

    /// `range` of the readable bytes, sharing the buffer's storage. Every range comes from `scan`,
    /// inside the readable bytes, so the slice always exists.
    private static func slice(_ buffer: ByteBuffer, _ range: Range<Int>) -> ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
    }

    /// A name or filename as RFC 7578 senders write it inside quotes: `"` as `%22` (as browsers
    /// do), `\` doubled. Control characters were refused when the form was read.
    private static func escaped(_ name: String) -> String {
        // By scalar: a quote followed by a combining mark is one Character, which would not match.
        var out = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "%22".unicodeScalars)
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// Problems with the body are reported against `file`, the one field every audio request has.
    private static func malformed(_ message: String) -> GatewayError {
        .invalidRequest(message, param: "file")
    }
}
