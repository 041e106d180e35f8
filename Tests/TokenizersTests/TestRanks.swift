import Foundation
import Logging
import Tokenizers

/// The rank files of the test run: `SPANWAY_TOKENIZER_DIR` (.ci/run fetches and verifies them).
/// Tests that need them are skipped with a message when it is not set.
enum TestRanks {
    static let directory = ProcessInfo.processInfo.environment["SPANWAY_TOKENIZER_DIR"].flatMap {
        FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("o200k_base.tiktoken"))
            && FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("cl100k_base.tiktoken"))
            ? $0 : nil
    }
    static let available = directory != nil

    static let store = TokenizerStore(
        sources: RankFileSources(directories: directory.map { [$0] } ?? []), logger: Logger(label: "test"))

    static func tokenizer(_ encoding: TokenEncoding) async throws -> BPETokenizer {
        guard let tokenizer = await store.loaded(encoding) else { throw Missing(encoding: encoding) }
        return tokenizer
    }

    struct Missing: Error {
        let encoding: TokenEncoding
    }
}
