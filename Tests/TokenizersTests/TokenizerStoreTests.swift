import Crypto
import Foundation
import Logging
import Testing
import Tokenizers

/// Finding, verifying and loading rank files; what happens when there are none.
struct TokenizerStoreTests {
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "spanway-tokenizers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(.timeLimit(.minutes(3))) func noRankDirectoryMeansEstimates() async throws {
        let store = TokenizerStore(sources: RankFileSources(directories: []), logger: Logger(label: "test"))
        #expect(await store.loaded(.o200kBase) == nil)
        #expect(store.tokenizer(for: .o200kBase) == nil)
        let counter = TokenCounter(store: store)
        #expect(counter.tokenizer(forOpenAIModel: "gpt-4o") == nil)
        #expect(counter.count(text: "hello world", using: nil) == TokenTally(tokens: 3, estimated: true))
    }

    /// A file whose SHA-256 is not tiktoken's is never used.
    @Test(.timeLimit(.minutes(3))) func aFileWithTheWrongHashIsRejected() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("IQ== 0\n".utf8).write(to: URL(fileURLWithPath: directory + "/cl100k_base.tiktoken"))
        let store = TokenizerStore(sources: RankFileSources(directories: [directory]), logger: Logger(label: "test"))
        #expect(await store.loaded(.cl100kBase) == nil)
    }

    @Test func sourcesInOrder() {
        let sources = RankFileSources(
            configured: "/etc/ranks", environment: ["SPANWAY_TOKENIZER_DIR": "/env/ranks", "TIKTOKEN_CACHE_DIR": "/cache"])
        #expect(sources.directories == ["/etc/ranks", "/env/ranks", "/cache"])
        #expect(RankFileSources(configured: nil, environment: ["DATA_GYM_CACHE_DIR": "/gym"]).directories == ["/gym"])
    }

    /// tiktoken's cache names the file by the SHA-1 of its URL (9b5ad71b… for cl100k_base).
    @Test(.enabled(if: TestRanks.available, "needs SPANWAY_TOKENIZER_DIR with the rank files (.ci/run)"), .timeLimit(.minutes(3)))
    func tiktokenCacheLayout() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = (TestRanks.directory ?? "") + "/cl100k_base.tiktoken"
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/9b5ad71b2ce5302211f9c61530b329a4922fc6a4", withDestinationPath: source)
        let store = TokenizerStore(sources: RankFileSources(directories: [directory]), logger: Logger(label: "test"))
        let tokenizer = try #require(await store.loaded(.cl100kBase))
        #expect(tokenizer.encode("hello world") == [15339, 1917])
        #expect(store.tokenizer(for: .cl100kBase) != nil)
    }
}
