/// Byte-pair merging of one piece, as tiktoken's `byte_pair_merge` defines it: repeatedly merge
/// the adjacent pair whose joined bytes have the lowest rank (the leftmost on a tie) until no
/// pair has a rank. tiktoken rescans every pair after each merge, which is quadratic in the
/// piece's length; here a min-heap of candidate pairs, with stale entries skipped when popped,
/// makes it O(n log n), so a long run of one character class stays fast.
struct BytePairMerge {
    /// Appends the tokens of `piece` to `tokens`.
    static func encode(_ piece: ArraySlice<UInt8>, ranks: RankTable, into tokens: inout [Int]) {
        guard !piece.isEmpty else { return }
        if let rank = ranks.rank(piece) {
            tokens.append(Int(rank))
            return
        }
        let base = piece.startIndex
        let count = piece.count
        // Parts are named by the offset where they start; `next`/`previous` link the live ones.
        var next = Array(1...count)
        var previous = Array(-1..<(count - 1))
        var pairRank = [Int32](repeating: .max, count: count)
        var heap = MinHeap()
        func end(of part: Int) -> Int { part == count ? count : next[part] }
        func rankPair(at part: Int) -> Int32 {
            let second = next[part]
            guard second < count else { return .max }
            return ranks.rank(piece[(base + part)..<(base + end(of: second))]) ?? .max
        }
        for part in 0..<(count - 1) {
            pairRank[part] = rankPair(at: part)
            if pairRank[part] != .max { heap.push(rank: pairRank[part], position: part) }
        }
        while let (rank, part) = heap.pop() {
            // Stale: the part was merged away or its pair changed since this entry was pushed.
            guard pairRank[part] == rank, next[part] < count else { continue }
            let merged = next[part]
            next[part] = next[merged]
            if next[merged] < count { previous[next[merged]] = part }
            pairRank[merged] = .max
            pairRank[part] = rankPair(at: part)
            if pairRank[part] != .max { heap.push(rank: pairRank[part], position: part) }
            let before = previous[part]
            if before >= 0 {
                pairRank[before] = rankPair(at: before)
                if pairRank[before] != .max { heap.push(rank: pairRank[before], position: before) }
            }
        }
        var part = 0
        while part < count {
            // Every part left is a token: single bytes always are, merges only make ranked ones.
            tokens.append(Int(ranks.rank(piece[(base + part)..<(base + end(of: part))]) ?? 0))
            part = next[part]
        }
    }
}
