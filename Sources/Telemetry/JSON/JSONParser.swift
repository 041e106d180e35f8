/// A strict RFC 8259 parser over UTF-8 bytes. Errors carry the byte offset and what was expected.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    /// The input may be valid JSON, but parsing it would pass one of `JSONParser.Limits`: the
    /// caller may answer "too large" rather than "malformed".
    public var limitExceeded: Bool

    public init(offset: Int, reason: String, limitExceeded: Bool = false) {
        self.offset = offset
        self.reason = reason
        self.limitExceeded = limitExceeded
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

public enum JSONParser {
    /// What one parse may build. Input size alone does not bound the tree: `[[1],[1],...]` costs
    /// about 16 bytes of heap per input byte, so a body the server accepts could still become a
    /// tree of hundreds of megabytes. Each limit turns that into a `JSONParseError` instead.
    public struct Limits: Sendable, Equatable {
        /// Containers nested deeper than this are refused instead of risking the stack.
        public var maxDepth: Int
        /// Array elements plus object members, counted over the whole document.
        public var maxElements: Int
        /// The decoded UTF-8 length of any one string (keys included).
        public var maxStringBytes: Int

        public init(
            maxDepth: Int = JSONParser.maxDepth, maxElements: Int = 1_000_000, maxStringBytes: Int = 32 * 1024 * 1024
        ) {
            self.maxDepth = maxDepth
            self.maxElements = maxElements
            self.maxStringBytes = maxStringBytes
        }

        /// Request bodies, config documents, stream events: a million elements is far beyond any
        /// legitimate chat or embeddings request (OpenAI caps an embeddings request at 300k tokens),
        /// and strings up to the gateway's default 32 MiB body limit (inline images).
        public static let `default` = Limits()

        /// Whole upstream answers, which the transport already caps at 64 MiB and which may
        /// legitimately hold millions of numbers (2,048 embeddings of 3,072 floats each).
        public static let upstreamResponse = Limits(maxElements: 8_000_000, maxStringBytes: 64 * 1024 * 1024)
    }

    /// Nesting deeper than this is refused instead of risking the stack on hostile input.
    public static let maxDepth = 256

    public static func parse(_ bytes: some Collection<UInt8>, limits: Limits = .default) throws(JSONParseError)
        -> JSONValue
    {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(JSONParseError) -> JSONValue in
            var reader = Reader(bytes: buffer, limits: limits)
            reader.skipWhitespace()
            let value = try reader.parseValue(depth: 0)
            reader.skipWhitespace()
            guard reader.atEnd else { throw reader.error("unexpected trailing characters") }
            return value
        }
    }

    public static func parse(_ string: String, limits: Limits = .default) throws(JSONParseError) -> JSONValue {
        try parse(Array(string.utf8), limits: limits)
    }

    /// Parses a top-level object one member at a time, handing each name and value to `body`:
    /// no tree of the whole document is built, so a large table parses in the memory of its
    /// largest member (many small nodes freed at once leave the heap fragmented, and resident).
    public static func forEachMember(
        ofObject bytes: [UInt8], limits: Limits = .default, _ body: (String, JSONValue) -> Void
    ) throws(JSONParseError) {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var reader = Reader(bytes: buffer, limits: limits)
            reader.skipWhitespace()
            guard !reader.atEnd, buffer[reader.index] == UInt8(ascii: "{") else {
                throw reader.error("the top level is not an object")
            }
            try reader.parseMembers(depth: 0, body)
            reader.skipWhitespace()
            guard reader.atEnd else { throw reader.error("unexpected trailing characters") }
        }
    }
}

private let replacementScalar: Unicode.Scalar = "\u{FFFD}"

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONParser.Limits
    var index = 0
    /// Array elements and object members so far, against `limits.maxElements`.
    var elements = 0

    var atEnd: Bool { index >= bytes.count }

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONParser.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    func error(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

    func limitError(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason, limitExceeded: true)
    }

    /// Called before each array element or object member is built.
    mutating func countElement() throws(JSONParseError) {
        elements += 1
        guard elements <= limits.maxElements else {
            throw limitError("more than \(limits.maxElements) array elements and object members")
        }
    }

    func checkStringLength(_ length: Int) throws(JSONParseError) {
        guard length <= limits.maxStringBytes else {
            throw limitError("a string longer than \(limits.maxStringBytes) bytes")
        }
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < limits.maxDepth else { throw limitError("nesting deeper than \(limits.maxDepth)") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        let ptr = literal.utf8Start
        for i in 0..<count where bytes[index + i] != ptr[i] {
            throw error("invalid literal")
        }
        index += count
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        try parseMembers(depth: depth) { members.append((key: $0, value: $1)) }
        return .object(JSONObject(members))
    }

    /// The members of the object starting at `index`, in order, each to `member`.
    mutating func parseMembers(depth: Int, _ member: (String, JSONValue) -> Void) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            try countElement()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            member(key, try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return
            }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        index += 1
        var values: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(values)
        }
        while true {
            try countElement()
            skipWhitespace()
            values.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(values)
            }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                try checkStringLength(index - start)
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return try validated(slice, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            index += 1
        }
        var scalars = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                try checkStringLength(scalars.count)
                index += 1
                return try scalars.withUnsafeBufferPointer { buffer throws(JSONParseError) -> String in
                    try validated(buffer, at: start)
                }
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unterminated escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"): appendUTF8(of: try parseUnicodeEscape(), to: &scalars)
                default: throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    func validated(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
        guard let string = String(validating: buffer, as: UTF8.self) else {
            throw JSONParseError(offset: offset, reason: "invalid UTF-8 in string")
        }
        return string
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid unicode escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let first = try parseHex4()
        if (0xD800...0xDBFF).contains(first) {
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { return replacementScalar }
            index += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else {
                // A lone high surrogate: only it is replaced; the escape after it is its own
                // character (`\ud800\u0041` is U+FFFD then `A`), so step back and read it again.
                index -= 6
                return replacementScalar
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            return Unicode.Scalar(combined) ?? replacementScalar
        }
        return Unicode.Scalar(first) ?? replacementScalar
    }

    func appendUTF8(of scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        UTF8.encode(scalar) { bytes.append($0) }
    }
}
