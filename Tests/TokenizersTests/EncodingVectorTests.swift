import Testing
import Tokenizers

/// The encodings against known token ids: tiktoken's own tests for cl100k_base, ids produced
/// with the verified o200k_base file for o200k_base.
@Suite(.enabled(if: TestRanks.available, "needs SPANWAY_TOKENIZER_DIR with the rank files (.ci/run)"))
struct EncodingVectorTests {
    @Test(arguments: [
        ("hello world", [15339, 1917]),
        ("rer", [38149]),
        ("'rer", [2351, 81]),
        ("today\n ", [31213, 198, 220]),
        ("today\n \n", [31213, 27907]),
        ("today\n  \n", [31213, 14211]),
        (" \u{85}0", [220, 126, 227, 15]),
    ])
    func cl100k(text: String, ids: [Int]) async throws {
        let tokenizer = try await TestRanks.tokenizer(.cl100kBase)
        #expect(tokenizer.encode(text) == ids)
        #expect(tokenizer.count(text) == ids.count)
    }

    @Test func cl100kSpecialTokenWhenAllowed() async throws {
        let tokenizer = try await TestRanks.tokenizer(.cl100kBase)
        #expect(tokenizer.encode("hello <|endoftext|>", allowedSpecial: ["<|endoftext|>"]) == [15339, 220, 100257])
        // Not allowed: the same text is ordinary text, and never the special id.
        #expect(!tokenizer.encode("hello <|endoftext|>").contains(100257))
    }

    @Test(arguments: [
        ("hello world", [24912, 2375]),
        ("Hello, world!", [13225, 11, 2375, 0]),
        ("I'm here", [15390, 2105]),
        ("1234567", [7633, 19354, 22]),
    ])
    func o200k(text: String, ids: [Int]) async throws {
        let tokenizer = try await TestRanks.tokenizer(.o200kBase)
        #expect(tokenizer.encode(text) == ids)
    }

    /// gpt-oss reads the o200k_base ranks: ordinary text encodes the same.
    @Test func harmonySharesTheO200kRanks() async throws {
        let harmony = try await TestRanks.tokenizer(.o200kHarmony)
        #expect(harmony.encode("hello world") == [24912, 2375])
    }

    /// Past 4 MiB a text is estimated (UTF-8 bytes ÷ 4, rounded up), not encoded.
    @Test func textsBeyondTheExactLimitAreEstimated() async throws {
        let tokenizer = try await TestRanks.tokenizer(.o200kBase)
        let bytes = 4 * 1024 * 1024 + 1
        let tally = TokenCounter.estimating.count(text: String(repeating: "a", count: bytes), using: tokenizer)
        #expect(tally == TokenTally(tokens: (bytes + 3) / 4, estimated: true))
        #expect(TokenCounter.estimating.count(text: "hello world", using: tokenizer) == TokenTally(tokens: 2, estimated: false))
    }

    /// A long input of one character class (one BPE piece) and long mixed text finish quickly:
    /// merging is not quadratic in the piece's length.
    @Test(.timeLimit(.minutes(3))) func longInputsFinishQuickly() async throws {
        let tokenizer = try await TestRanks.tokenizer(.o200kBase)
        let run = String(repeating: "a", count: 200_000)
        let runTokens = tokenizer.count(run)
        // Every token of a run of `a` covers at least one and at most a few dozen bytes.
        #expect(runTokens > 200_000 / 64 && runTokens < 200_000)
        let prose = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 5_000)
        // " The", " quick", … are single tokens: ten a sentence ("The" and "." included), and the
        // trailing space is one more.
        let cl100k = try await TestRanks.tokenizer(.cl100kBase)
        #expect(cl100k.count(prose) == 5_000 * 10 + 1)
        let digits = String(repeating: "9", count: 300_000)
        #expect(tokenizer.count(digits) == 100_000)  // three digits a piece, each a token
    }
}
