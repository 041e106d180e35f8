import Testing

@testable import Tokenizers

/// The heap-based merge against tiktoken's definition (`byte_pair_merge`: merge the lowest-rank
/// adjacent pair, leftmost on a tie, until none has a rank), written here as the plain quadratic
/// loop, on a small made-up vocabulary.
struct BytePairMergeTests {
    /// All 256 bytes, then merges chosen so that ties and chains occur.
    static let ranks: RankTable = {
        var table = RankTable()
        for byte in 0...255 { table.insert([UInt8(byte)][...], rank: Int32(byte)) }
        let merges = ["ab", "bc", "ca", "aa", "abc", "bb", "aab", "cab", "abca", "aaa", "bcab", "aaaa", "cc", "ccc"]
        for (index, merge) in merges.enumerated() { table.insert(Array(merge.utf8)[...], rank: Int32(256 + index)) }
        return table
    }()

    static func reference(_ piece: [UInt8]) -> [Int] {
        var parts = piece.map { [$0] }
        while parts.count > 1 {
            var best: (rank: Int32, index: Int)?
            for index in 0..<(parts.count - 1) {
                if let rank = ranks.rank((parts[index] + parts[index + 1])[...]), rank < (best?.rank ?? .max) {
                    best = (rank, index)
                }
            }
            guard let best else { break }
            parts[best.index] += parts[best.index + 1]
            parts.remove(at: best.index + 1)
        }
        return parts.map { Int(ranks.rank($0[...]) ?? -1) }
    }

    @Test func matchesTheReferenceOnManyPieces() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let length = Int.random(in: 1...40, using: &generator)
            let piece = (0..<length).map { _ in Array("abc".utf8)[Int.random(in: 0..<3, using: &generator)] }
            var tokens: [Int] = []
            BytePairMerge.encode(piece[...], ranks: Self.ranks, into: &tokens)
            #expect(tokens == Self.reference(piece), "piece \(String(decoding: piece, as: UTF8.self))")
        }
    }

    @Test func tiesGoToTheLeftmostPair() {
        var tokens: [Int] = []
        // "aaa": both pairs are "aa" (rank 259); the left one merges first, leaving "aa" + "a"…
        // then "aaa" (rank 265) joins them.
        BytePairMerge.encode(Array("aaa".utf8)[...], ranks: Self.ranks, into: &tokens)
        #expect(tokens == [265])
        tokens = []
        // "bbb": "bb" (261) left, then "bb"+"b" has no rank.
        BytePairMerge.encode(Array("bbb".utf8)[...], ranks: Self.ranks, into: &tokens)
        #expect(tokens == [261, 98])
    }

    @Test func parsesATiktokenFile() throws {
        // "IQ==" is "!" (rank 0), "Ig==" is "\"" (1), "aGk=" is "hi" (2).
        let table = try RankTable(tiktoken: Array("IQ== 0\nIg== 1\naGk= 2\n".utf8))
        #expect(table.count == 3)
        #expect(table.rank(Array("hi".utf8)[...]) == 2)
        #expect(throws: RankTable.ParseError.rankOutOfOrder(2)) { try RankTable(tiktoken: Array("IQ== 0\nIg== 5\n".utf8)) }
        #expect(throws: RankTable.ParseError.malformedLine(1)) { try RankTable(tiktoken: Array("I*== 0\n".utf8)) }
    }
}
