/// Splits text into the pieces BPE runs on, as the encodings' regular expressions (tiktoken's
/// `pat_str`) do. Written as a scanner instead of a regular expression: both patterns need
/// possessive quantifiers, lookahead and Unicode classes, and a scanner does one linear pass
/// with no backtracking blow-up on long runs of one character class.
///
/// At each position the alternatives are tried in the pattern's order and the first that
/// matches wins, as a backtracking regex engine does; each case below says which alternative
/// it is.
enum PreTokenizer: Sendable {
    /// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    case cl100k
    /// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
    /// `|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
    /// `|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case o200k

    /// The text's scalars and their classes, with each scalar's UTF-8 offset (one past the end
    /// for the last) so that pieces can be cut from the UTF-8 bytes.
    struct Scalars {
        var values: [UInt32] = []
        var classes: [ScalarClass] = []
        /// 32 bits: about ten bytes a scalar in all, which matters for long prompts.
        var offsets: [Int32] = []

        init(_ text: Substring.UnicodeScalarView) {
            values.reserveCapacity(text.count)
            classes.reserveCapacity(text.count)
            offsets.reserveCapacity(text.count + 1)
            var offset = 0
            for scalar in text {
                values.append(scalar.value)
                classes.append(ScalarClass(scalar))
                offsets.append(Int32(truncatingIfNeeded: offset))
                offset += UTF8.width(scalar)
            }
            offsets.append(Int32(truncatingIfNeeded: offset))
        }

        var count: Int { values.count }
    }

    /// Calls `piece` with the UTF-8 byte range of every piece, in order.
    func forEachPiece(_ scalars: Scalars, _ piece: (Range<Int>) -> Void) {
        var index = 0
        while index < scalars.count {
            let end =
                switch self {
                case .cl100k: Self.cl100kPiece(scalars, at: index)
                case .o200k: Self.o200kPiece(scalars, at: index)
                }
            piece(Int(scalars.offsets[index])..<Int(scalars.offsets[end]))
            index = end
        }
    }

    // MARK: cl100k_base

    static func cl100kPiece(_ text: Scalars, at start: Int) -> Int {
        let count = text.count
        let classes = text.classes
        let first = classes[start]
        // 1. '(?i:[sdmt]|ll|ve|re)
        if text.values[start] == apostrophe, start + 1 < count {
            let second = lowerASCII(text.values[start + 1])
            if [UInt32]([0x73, 0x64, 0x6D, 0x74]).contains(second) { return start + 2 }  // s d m t
            if start + 2 < count {
                let pair = (second, lowerASCII(text.values[start + 2]))
                if pair == (0x6C, 0x6C) || pair == (0x76, 0x65) || pair == (0x72, 0x65) { return start + 3 }  // ll ve re
            }
        }
        // 2. [^\r\n\p{L}\p{N}]?+\p{L}++ (the optional prefix is possessive: taken, never given back)
        let word = first.isWordPrefix ? start + 1 : start
        if word < count, classes[word].contains(.letter) {
            return run(classes, from: word + 1, while: .letter)
        }
        // 3. \p{N}{1,3}+
        if first.contains(.number) {
            var end = start + 1
            while end < count, end < start + 3, classes[end].contains(.number) { end += 1 }
            return end
        }
        // 4. ` ?[^\s\p{L}\p{N}]++[\r\n]*+`
        if let end = punctuation(text, at: start, trailing: { flags, _ in flags.contains(.newline) }) { return end }
        // 5. \s++$   6. \s*[\r\n]   7. \s+(?!\S)   8. \s
        if first.contains(.whitespace) {
            let (end, lastNewline) = whitespaceRun(classes, from: start)
            if end == count { return end }
            if let lastNewline { return lastNewline + 1 }
            return end - start >= 2 ? end - 1 : start + 1
        }
        return start + 1
    }

    // MARK: o200k_base

    static func o200kPiece(_ text: Scalars, at start: Int) -> Int {
        let count = text.count
        let classes = text.classes
        let first = classes[start]
        // The optional prefix is greedy but not possessive: with it first, then without.
        let starts = first.isWordPrefix && start + 1 < count ? [start + 1, start] : [start]
        // 1. prefix? [upperish]* [lowerish]+ contraction?
        for word in starts {
            if let end = upperThenLower(classes, from: word) { return contraction(text, at: end) }
        }
        // 2. prefix? [upperish]+ [lowerish]* contraction?
        for word in starts where word < count && classes[word].contains(.upperish) {
            let upper = run(classes, from: word + 1, while: .upperish)
            return contraction(text, at: run(classes, from: upper, while: .lowerish))
        }
        // 3. \p{N}{1,3}
        if first.contains(.number) {
            var end = start + 1
            while end < count, end < start + 3, classes[end].contains(.number) { end += 1 }
            return end
        }
        // 4. ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        if let end = punctuation(text, at: start, trailing: { $0.contains(.newline) || $1 == slash }) { return end }
        // 5. \s*[\r\n]+   6. \s+(?!\S)   7. \s+
        if first.contains(.whitespace) {
            let (end, lastNewline) = whitespaceRun(classes, from: start)
            if let lastNewline { return lastNewline + 1 }
            if end == count { return end }
            return end - start >= 2 ? end - 1 : end
        }
        return start + 1
    }

    /// `[upperish]*[lowerish]+` from `start`, greedy with backtracking: the longest upper run
    /// that still leaves a lowerish scalar after it, then the longest lowerish run.
    private static func upperThenLower(_ classes: [ScalarClass], from start: Int) -> Int? {
        var split = run(classes, from: start, while: .upperish)
        while true {
            if split < classes.count, classes[split].contains(.lowerish) {
                return run(classes, from: split + 1, while: .lowerish)
            }
            if split == start { return nil }
            split -= 1
        }
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `end`.
    private static func contraction(_ text: Scalars, at end: Int) -> Int {
        guard end + 1 < text.count, text.values[end] == apostrophe else { return end }
        let second = lowerASCII(text.values[end + 1])
        if [UInt32]([0x73, 0x74, 0x6D, 0x64]).contains(second) { return end + 2 }  // s t m d
        guard end + 2 < text.count else { return end }
        let pair = (second, lowerASCII(text.values[end + 2]))
        if pair == (0x72, 0x65) || pair == (0x76, 0x65) || pair == (0x6C, 0x6C) { return end + 3 }  // re ve ll
        return end
    }

    // MARK: shared

    /// ` ?[^\s\p{L}\p{N}]+` followed by the scalars `trailing` accepts; nil when it does not match.
    private static func punctuation(
        _ text: Scalars, at start: Int, trailing: (ScalarClass, UInt32) -> Bool
    ) -> Int? {
        var end = text.values[start] == space ? start + 1 : start
        guard end < text.count, text.classes[end].isOther else { return nil }
        while end < text.count, text.classes[end].isOther { end += 1 }
        while end < text.count, trailing(text.classes[end], text.values[end]) { end += 1 }
        return end
    }

    /// The end of the whitespace run starting at `start`, and the last `\r`/`\n` in it.
    private static func whitespaceRun(_ classes: [ScalarClass], from start: Int) -> (end: Int, lastNewline: Int?) {
        var end = start
        var lastNewline: Int?
        while end < classes.count, classes[end].contains(.whitespace) {
            if classes[end].contains(.newline) { lastNewline = end }
            end += 1
        }
        return (end, lastNewline)
    }

    private static func run(_ classes: [ScalarClass], from start: Int, while flag: ScalarClass) -> Int {
        var end = start
        while end < classes.count, classes[end].contains(flag) { end += 1 }
        return end
    }

    private static func lowerASCII(_ value: UInt32) -> UInt32 {
        (0x41...0x5A).contains(value) ? value + 0x20 : value
    }

    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20
    private static let slash: UInt32 = 0x2F
}
