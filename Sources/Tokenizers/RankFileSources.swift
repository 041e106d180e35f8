import Crypto
import Foundation

/// Where rank files are looked for, in order: each directory as `<encoding>.tiktoken` or, as
/// tiktoken's own cache stores them, under the SHA-1 of the download URL. A file is trusted only
/// if its SHA-256 is the one tiktoken expects.
public struct RankFileSources: Sendable, Equatable {
    public var directories: [String]

    public init(directories: [String]) {
        self.directories = directories.filter { !$0.isEmpty }
    }

    /// `spanway_settings.tokenizer_dir`, then `SPANWAY_TOKENIZER_DIR`, then tiktoken's cache
    /// (`TIKTOKEN_CACHE_DIR`, else `DATA_GYM_CACHE_DIR`).
    public init(configured: String?, environment: [String: String]) {
        let cache = environment["TIKTOKEN_CACHE_DIR"] ?? environment["DATA_GYM_CACHE_DIR"]
        self.init(directories: [configured, environment["SPANWAY_TOKENIZER_DIR"], cache].compactMap { $0 })
    }

    /// The paths that may hold `file`, most preferred first (existing files only).
    func candidates(for file: RankFile) -> [String] {
        let cacheName = Self.hex(Insecure.SHA1.hash(data: Array(file.url.utf8)))
        return directories.flatMap { directory in
            [file.fileName, cacheName].map { (directory as NSString).appendingPathComponent($0) }
        }.filter { FileManager.default.isReadableFile(atPath: $0) }
    }

    enum LoadError: Error, Equatable {
        case unreadable(String)
        case hashMismatch(path: String, actual: String)
        case malformed(path: String, RankTable.ParseError)
    }

    /// Reads, verifies and parses the rank file at `path`.
    static func load(_ file: RankFile, at path: String) throws(LoadError) -> RankTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        let bytes = [UInt8](data)
        let actual = hex(SHA256.hash(data: bytes))
        guard actual == file.sha256 else { throw .hashMismatch(path: path, actual: actual) }
        do {
            return try RankTable(tiktoken: bytes)
        } catch {
            throw .malformed(path: path, error)
        }
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
