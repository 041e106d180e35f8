/// Which encoding an OpenAI model uses, as tiktoken's `encoding_name_for_model` decides
/// (tiktoken/model.py): exact names first, then prefixes. Prefixes are kept most specific first
/// (`gpt-4o-` before `gpt-4-`, `ft:gpt-4o` before `ft:gpt-4`), so the first match is the
/// longest one.
public enum ModelEncodings {
    static let exact: [String: TokenEncoding] = [
        // chat
        "o1": .o200kBase, "o3": .o200kBase, "o4-mini": .o200kBase, "gpt-5": .o200kBase, "gpt-4.1": .o200kBase,
        "gpt-4o": .o200kBase, "gpt-4": .cl100kBase, "gpt-3.5-turbo": .cl100kBase, "gpt-3.5": .cl100kBase,
        "gpt-35-turbo": .cl100kBase,
        // base
        "davinci-002": .cl100kBase, "babbage-002": .cl100kBase,
        // embeddings
        "text-embedding-ada-002": .cl100kBase, "text-embedding-3-small": .cl100kBase,
        "text-embedding-3-large": .cl100kBase,
        // deprecated text, code and edit models
        "text-davinci-003": .p50kBase, "text-davinci-002": .p50kBase, "text-davinci-001": .r50kBase,
        "text-curie-001": .r50kBase, "text-babbage-001": .r50kBase, "text-ada-001": .r50kBase, "davinci": .r50kBase,
        "curie": .r50kBase, "babbage": .r50kBase, "ada": .r50kBase, "code-davinci-002": .p50kBase,
        "code-davinci-001": .p50kBase, "code-cushman-002": .p50kBase, "code-cushman-001": .p50kBase,
        "davinci-codex": .p50kBase, "cushman-codex": .p50kBase, "text-davinci-edit-001": .p50kEdit,
        "code-davinci-edit-001": .p50kEdit, "text-similarity-davinci-001": .r50kBase,
        "text-similarity-curie-001": .r50kBase, "text-similarity-babbage-001": .r50kBase,
        "text-similarity-ada-001": .r50kBase, "text-search-davinci-doc-001": .r50kBase,
        "text-search-curie-doc-001": .r50kBase, "text-search-babbage-doc-001": .r50kBase,
        "text-search-ada-doc-001": .r50kBase, "code-search-babbage-code-001": .r50kBase,
        "code-search-ada-code-001": .r50kBase,
        // open source
        "gpt2": .gpt2, "gpt-2": .gpt2,
    ]

    static let prefixes: [(prefix: String, encoding: TokenEncoding)] = [
        ("o1-", .o200kBase), ("o3-", .o200kBase), ("o4-mini-", .o200kBase), ("gpt-5", .o200kBase),
        ("gpt-4.5-", .o200kBase), ("gpt-4.1-", .o200kBase), ("chatgpt-4o-", .o200kBase), ("gpt-4o-", .o200kBase),
        ("gpt-oss-", .o200kHarmony), ("gpt-4-", .cl100kBase), ("gpt-3.5-turbo-", .cl100kBase),
        ("gpt-35-turbo-", .cl100kBase), ("ft:gpt-4o", .o200kBase), ("ft:gpt-4", .cl100kBase),
        ("ft:gpt-3.5-turbo", .cl100kBase), ("ft:davinci-002", .cl100kBase), ("ft:babbage-002", .cl100kBase),
    ]

    /// The encoding of `model` (a bare OpenAI model name, no `openai/` prefix), or nil when
    /// tiktoken does not know it.
    public static func encoding(forModel model: String) -> TokenEncoding? {
        if let encoding = exact[model] { return encoding }
        return prefixes.first { model.hasPrefix($0.prefix) }?.encoding
    }
}
