import Logging
import Synchronization

/// Loads the rank files lazily, once, off the request path. `tokenizer(for:)` never waits: it
/// answers nil (callers then estimate) until the file is loaded, and starts the load if nobody
/// has. When no verified file exists the store says so once in the log and keeps answering nil.
public final class TokenizerStore: Sendable {
    public let sources: RankFileSources
    private let logger: Logger
    private let slots = Mutex<[RankFile: Slot]>([:])

    private enum Slot {
        case loading(Task<[TokenEncoding: BPETokenizer], Never>)
        /// Empty when no verified file was found.
        case ready([TokenEncoding: BPETokenizer])
    }

    public init(sources: RankFileSources, logger: Logger) {
        self.sources = sources
        self.logger = logger
    }

    /// The tokenizer if its ranks are loaded; otherwise nil, having started loading them.
    public func tokenizer(for encoding: TokenEncoding) -> BPETokenizer? {
        guard let file = encoding.rankFile else { return nil }
        if case .ready(let tokenizers) = slot(for: file) { return tokenizers[encoding] }
        return nil
    }

    /// The tokenizer, waiting for its ranks to load (at start-up, and in tests); nil when the
    /// encoding has no verified rank file.
    public func loaded(_ encoding: TokenEncoding) async -> BPETokenizer? {
        guard let file = encoding.rankFile else { return nil }
        switch slot(for: file) {
        case .ready(let tokenizers): return tokenizers[encoding]
        case .loading(let task): return await task.value[encoding]
        }
    }

    /// Starts loading the rank files of `encodings` in the background.
    public func preload(_ encodings: some Sequence<TokenEncoding>) {
        for file in Set(encodings.compactMap(\.rankFile)) { _ = slot(for: file) }
    }

    private func slot(for file: RankFile) -> Slot {
        slots.withLock { slots in
            if let slot = slots[file] { return slot }
            let candidates = sources.candidates(for: file)
            let directories = sources.directories
            let logger = logger
            let task = Task.detached(priority: .utility) { [weak self] in
                let tokenizers = await Self.load(file, from: candidates, directories: directories, logger: logger)
                self?.slots.withLock { $0[file] = .ready(tokenizers) }
                return tokenizers
            }
            slots[file] = .loading(task)
            return .loading(task)
        }
    }

    private static func load(_ file: RankFile, from candidates: [String], directories: [String], logger: Logger) async
        -> [TokenEncoding: BPETokenizer]
    {
        for path in candidates {
            switch await SharedRanks.table(file, at: path) {
            case .success(let ranks):
                let encodings = TokenEncoding.allCases.filter { $0.rankFile == file }
                logger.info("tokenizer loaded", metadata: ["encoding": "\(file.name)", "path": "\(path)"])
                return Dictionary(
                    uniqueKeysWithValues: encodings.compactMap { encoding in
                        BPETokenizer(encoding: encoding, ranks: ranks).map { (encoding, $0) }
                    })
            case .failure(let error):
                logger.warning(
                    "tokenizer rank file rejected",
                    metadata: ["encoding": "\(file.name)", "path": "\(path)", "reason": "\(error)"])
            }
        }
        // Not configured at all is a choice (info); configured but unusable is a mistake (warning).
        logger.log(
            level: directories.isEmpty ? .info : .warning,
            "no verified tokenizer rank file: token counts for its models are estimates (UTF-8 bytes / 4)",
            metadata: [
                "encoding": "\(file.name)", "file": "\(file.fileName)",
                "searched": "\(directories)", "hint": "set spanway_settings.tokenizer_dir or SPANWAY_TOKENIZER_DIR",
            ])
        return [:]
    }
}
