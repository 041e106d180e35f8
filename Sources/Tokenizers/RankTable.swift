/// The merge ranks of one encoding: token bytes to rank (which is also the token id).
///
/// Byte strings of up to 7 bytes, most of the vocabulary, are packed into a `UInt64` key (the
/// bytes and the length) so that looking up a pair during merging allocates nothing.
struct RankTable: Sendable {
    private var short: [UInt64: Int32] = [:]
    private var long: [[UInt8]: Int32] = [:]
    private(set) var count = 0

    enum ParseError: Error, Equatable {
        /// Line number (from 1) of a line that is not `base64 SP rank`.
        case malformedLine(Int)
        /// Ranks must run 0, 1, 2, … in file order (tiktoken's files do).
        case rankOutOfOrder(Int)
    }

    init() {}

    /// Parses a `.tiktoken` file: `base64(token bytes) SP rank LF` per line.
    init(tiktoken bytes: [UInt8]) throws(ParseError) {
        short.reserveCapacity(bytes.count / 12)
        var line = 0
        var index = 0
        while index < bytes.count {
            line += 1
            var end = index
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            defer { index = end + 1 }
            var lineEnd = end
            if lineEnd > index, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == index { continue }
            guard let space = bytes[index..<lineEnd].firstIndex(of: 0x20),
                let token = Base64.decode(bytes[index..<space]), !token.isEmpty,
                let rank = Self.decimal(bytes[(space + 1)..<lineEnd])
            else { throw .malformedLine(line) }
            guard rank == count else { throw .rankOutOfOrder(line) }
            insert(token[...], rank: Int32(rank))
        }
    }

    mutating func insert(_ token: ArraySlice<UInt8>, rank: Int32) {
        if let key = Self.packed(token) {
            short[key] = rank
        } else {
            long[Array(token)] = rank
        }
        count += 1
    }

    func rank(_ bytes: ArraySlice<UInt8>) -> Int32? {
        if let key = Self.packed(bytes) { return short[key] }
        return long[Array(bytes)]
    }

    private static func packed(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard bytes.count <= 7 else { return nil }
        var key = UInt64(bytes.count) << 56
        var shift: UInt64 = 0
        for byte in bytes {
            key |= UInt64(byte) << shift
            shift += 8
        }
        return key
    }

    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        var value = 0
        for digit in digits {
            guard (0x30...0x39).contains(digit) else { return nil }
            value = value * 10 + Int(digit - 0x30)
        }
        return value
    }
}
