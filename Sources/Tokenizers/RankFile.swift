/// A `.tiktoken` rank file: where tiktoken downloads it from and the SHA-256 tiktoken checks
/// (`expected_hash` in tiktoken_ext/openai_public.py). A file is used only when its hash matches.
public struct RankFile: Sendable, Hashable {
    /// `cl100k_base`, `o200k_base`: the file is `<name>.tiktoken`.
    public let name: String
    public let sha256: String

    public static let cl100kBase = RankFile(
        name: "cl100k_base", sha256: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7")
    public static let o200kBase = RankFile(
        name: "o200k_base", sha256: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d")

    public var fileName: String { name + ".tiktoken" }

    /// tiktoken's download URL; its cache stores the file under the SHA-1 of this string.
    public var url: String { "https://openaipublic.blob.core.windows.net/encodings/\(name).tiktoken" }
}
