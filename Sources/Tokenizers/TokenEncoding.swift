/// The byte-level BPE encodings OpenAI publishes for its models (tiktoken's names).
///
/// Only `cl100k_base` and the `o200k` family are loaded: every OpenAI model still served uses
/// one of them. The older encodings are known by name so that a model mapped to them is counted
/// with the fallback estimate rather than with the wrong vocabulary.
public enum TokenEncoding: String, CaseIterable, Sendable {
    case cl100kBase = "cl100k_base"
    case o200kBase = "o200k_base"
    /// gpt-oss: the `o200k_base` ranks and pattern with extra special tokens.
    case o200kHarmony = "o200k_harmony"
    case p50kBase = "p50k_base"
    case p50kEdit = "p50k_edit"
    case r50kBase = "r50k_base"
    case gpt2

    /// The rank file this encoding reads, when the gateway can load it.
    public var rankFile: RankFile? {
        switch self {
        case .cl100kBase: .cl100kBase
        case .o200kBase, .o200kHarmony: .o200kBase
        case .p50kBase, .p50kEdit, .r50kBase, .gpt2: nil
        }
    }

    var pattern: PreTokenizer? {
        switch self {
        case .cl100kBase: .cl100k
        case .o200kBase, .o200kHarmony: .o200k
        case .p50kBase, .p50kEdit, .r50kBase, .gpt2: nil
        }
    }

    /// Special tokens (text to id); they are not in the rank file.
    var specialTokens: [String: Int] {
        switch self {
        case .cl100kBase:
            [
                "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
                "<|endofprompt|>": 100276,
            ]
        case .o200kBase: ["<|endoftext|>": 199999, "<|endofprompt|>": 200018]
        case .o200kHarmony:
            [
                "<|endoftext|>": 199999, "<|endofprompt|>": 200018, "<|startoftext|>": 199998, "<|return|>": 200002,
                "<|constrain|>": 200003, "<|channel|>": 200005, "<|start|>": 200006, "<|end|>": 200007,
                "<|message|>": 200008, "<|call|>": 200012,
            ]
        case .p50kBase, .p50kEdit, .r50kBase, .gpt2: [:]
        }
    }
}
