/// One loaded encoding: text to token ids with its pre-tokenizer and merge ranks. Immutable once
/// built, so one instance serves every request concurrently.
public final class BPETokenizer: Sendable {
    public let encoding: TokenEncoding
    let ranks: RankTable
    let pattern: PreTokenizer
    let specialTokens: [String: Int]

    /// Nil when the encoding's pattern is not implemented (the pre-2023 encodings).
    init?(encoding: TokenEncoding, ranks: RankTable) {
        guard let pattern = encoding.pattern else { return nil }
        self.encoding = encoding
        self.ranks = ranks
        self.pattern = pattern
        self.specialTokens = encoding.specialTokens
    }

    /// The tokens of `text`, special-token text (`<|endoftext|>`) included as ordinary text, as
    /// tiktoken's `encode_ordinary` does: what a prompt costs, whatever it contains.
    public func encode(_ text: String) -> [Int] {
        var tokens: [Int] = []
        encodeOrdinary(text[...], into: &tokens)
        return tokens
    }

    /// The tokens of `text`, with the special tokens named in `allowedSpecial` encoded as their
    /// own ids (tiktoken's `encode(text, allowed_special=…)`).
    public func encode(_ text: String, allowedSpecial: Set<String>) -> [Int] {
        let specials = allowedSpecial.compactMap { name in specialTokens[name].map { (name, $0) } }
        guard !specials.isEmpty else { return encode(text) }
        var tokens: [Int] = []
        var rest = text[...]
        while !rest.isEmpty {
            // The earliest special token; at one position, the longest.
            let found = specials.compactMap { special -> (Range<Substring.Index>, Int)? in
                rest.range(of: special.0).map { ($0, special.1) }
            }.min { ($0.0.lowerBound, $1.0.upperBound) < ($1.0.lowerBound, $0.0.upperBound) }
            guard let (range, id) = found else { break }
            encodeOrdinary(rest[..<range.lowerBound], into: &tokens)
            tokens.append(id)
            rest = rest[range.upperBound...]
        }
        encodeOrdinary(rest, into: &tokens)
        return tokens
    }

    /// How many tokens `text` has.
    public func count(_ text: String) -> Int {
        encode(text).count
    }

    private func encodeOrdinary(_ text: Substring, into tokens: inout [Int]) {
        guard !text.isEmpty else { return }
        // Piece offsets are 32-bit; text this long (beyond any request body) goes in halves.
        if text.utf8.count >= Int(Int32.max) {
            let middle = text.unicodeScalars.index(text.startIndex, offsetBy: text.unicodeScalars.count / 2)
            encodeOrdinary(text[..<middle], into: &tokens)
            encodeOrdinary(text[middle...], into: &tokens)
            return
        }
        let bytes = Array(text.utf8)
        let scalars = PreTokenizer.Scalars(text.unicodeScalars)
        pattern.forEachPiece(scalars) { range in
            BytePairMerge.encode(bytes[range], ranks: ranks, into: &tokens)
        }
    }
}

extension StringProtocol {
    fileprivate func range(of needle: String) -> Range<Index>? {
        let first = needle.unicodeScalars.first
        var index = startIndex
        while index < endIndex {
            if unicodeScalars[index] == first, self[index...].unicodeScalars.starts(with: needle.unicodeScalars) {
                return index..<(unicodeScalars.index(index, offsetBy: needle.unicodeScalars.count))
            }
            index = unicodeScalars.index(after: index)
        }
        return nil
    }
}
