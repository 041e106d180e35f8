import Testing

@testable import Tokenizers

/// The pieces each encoding's pattern cuts, worked out by hand from the regular expressions
/// (alternatives tried in order, first match wins).
struct PreTokenizerTests {
    static func pieces(_ text: String, _ pattern: PreTokenizer) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        pattern.forEachPiece(PreTokenizer.Scalars(text[...].unicodeScalars)) {
            out.append(String(decoding: bytes[$0], as: UTF8.self))
        }
        return out
    }

    @Test func cl100kPieces() {
        // "I" (letters), "'m" (contraction), a space before a space (\s+(?!\S)), a lone space
        // before a digit (\s), digits by three, a tab taken as a word's prefix, punctuation with
        // its line breaks, and trailing whitespace (\s++$).
        #expect(
            Self.pieces("I'm  12345\tok!!\r\n\n  end ", .cl100k) == [
                "I", "'m", " ", " ", "123", "45", "\tok", "!!\r\n\n", " ", " end", " ",
            ])
        // A contraction is matched before letters, even inside a word ('rer → 're r).
        #expect(Self.pieces("'rer", .cl100k) == ["'re", "r"])
        // Whitespace ending in a newline keeps the newline; the rest of the run follows.
        #expect(Self.pieces("a \n\t b", .cl100k) == ["a", " \n", "\t", " b"])
        #expect(Self.pieces("today\n \n", .cl100k) == ["today", "\n \n"])
        // U+0085 is White_Space: the space before it is cut off (\s+(?!\S)), then it stands alone (\s).
        #expect(Self.pieces(" \u{85}0", .cl100k) == [" ", "\u{85}", "0"])
        #expect(Self.pieces("HelloWORLDfoo", .cl100k) == ["HelloWORLDfoo"])
    }

    @Test func o200kPieces() {
        #expect(
            Self.pieces("I'm  12345\tok!!\r\n\n  end ", .o200k) == [
                "I'm", " ", " ", "123", "45", "\tok", "!!\r\n\n", " ", " end", " ",
            ])
        // Case changes split words: capitals then lower case, or a run of capitals then lower case.
        #expect(Self.pieces("HelloWORLDfoo", .o200k) == ["Hello", "WORLDfoo"])
        // Punctuation takes trailing slashes and line breaks; a slash may prefix a word.
        #expect(Self.pieces("a/b//\n", .o200k) == ["a", "/b", "//\n"])
        #expect(Self.pieces("1234567", .o200k) == ["123", "456", "7"])
        // Contractions attach to the word, case-insensitively.
        #expect(Self.pieces("WE'LL don't", .o200k) == ["WE'LL", " don't"])
        // \s*[\r\n]+ stops at the last line break; the spaces after it are their own piece.
        #expect(Self.pieces("x\n  ", .o200k) == ["x", "\n", "  "])
        // Letters of scripts without case (Lo) are in both classes.
        #expect(Self.pieces("日本語 text", .o200k) == ["日本語", " text"])
    }

    @Test func piecesCoverTheTextExactly() {
        let text = "Mixed: ÀÉÎ éè 中文 123 — \u{301}x\r\n\t 'S 'Ll ..// end"
        for pattern in [PreTokenizer.cl100k, .o200k] {
            #expect(Self.pieces(text, pattern).joined() == text)
        }
    }
}
