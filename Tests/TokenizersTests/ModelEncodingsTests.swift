import Testing
import Tokenizers

/// tiktoken's model table (tiktoken/model.py, 0.14.0): exact names, then prefixes.
struct ModelEncodingsTests {
    @Test(arguments: [
        ("gpt-4o", TokenEncoding.o200kBase), ("gpt-4o-mini", .o200kBase), ("gpt-4o-2024-08-06", .o200kBase),
        ("chatgpt-4o-latest", .o200kBase), ("gpt-4.1", .o200kBase), ("gpt-4.1-mini", .o200kBase),
        ("gpt-4.5-preview", .o200kBase), ("gpt-5", .o200kBase), ("gpt-5-mini", .o200kBase), ("o1", .o200kBase),
        ("o1-mini", .o200kBase), ("o3", .o200kBase), ("o3-mini", .o200kBase), ("o4-mini", .o200kBase),
        ("o4-mini-2025-04-16", .o200kBase), ("ft:gpt-4o-mini:org::abc", .o200kBase), ("gpt-oss-120b", .o200kHarmony),
        ("gpt-4", .cl100kBase), ("gpt-4-0613", .cl100kBase), ("gpt-4-32k", .cl100kBase), ("gpt-4-turbo", .cl100kBase),
        ("gpt-3.5-turbo", .cl100kBase), ("gpt-3.5-turbo-0125", .cl100kBase), ("gpt-3.5", .cl100kBase),
        ("gpt-35-turbo", .cl100kBase), ("gpt-35-turbo-16k", .cl100kBase), ("ft:gpt-4:org::x", .cl100kBase),
        ("ft:gpt-3.5-turbo-0613:org::x", .cl100kBase), ("davinci-002", .cl100kBase), ("ft:babbage-002:x", .cl100kBase),
        ("text-embedding-3-small", .cl100kBase), ("text-embedding-3-large", .cl100kBase),
        ("text-embedding-ada-002", .cl100kBase), ("text-davinci-003", .p50kBase), ("davinci", .r50kBase),
        ("gpt2", .gpt2),
    ])
    func knownModels(model: String, encoding: TokenEncoding) {
        #expect(ModelEncodings.encoding(forModel: model) == encoding)
    }

    @Test func unknownModelsHaveNoEncoding() {
        for model in ["claude-sonnet-4-5", "gemini-2.5-pro", "my-azure-deployment", "gpt-35", "o2"] {
            #expect(ModelEncodings.encoding(forModel: model) == nil, "\(model)")
        }
    }

    /// Only cl100k_base and the o200k family are loadable; gpt-oss shares o200k_base's file.
    @Test func rankFiles() {
        #expect(TokenEncoding.cl100kBase.rankFile == .cl100kBase)
        #expect(TokenEncoding.o200kBase.rankFile == .o200kBase)
        #expect(TokenEncoding.o200kHarmony.rankFile == .o200kBase)
        #expect(TokenEncoding.p50kBase.rankFile == nil)
        #expect(RankFile.o200kBase.url == "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken")
    }
}
