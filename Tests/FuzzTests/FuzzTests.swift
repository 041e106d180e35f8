import Foundation
import Testing

/// One test per fuzz target (see Fuzzer.swift for the design and the environment knobs).
@Suite(.timeLimit(.minutes(10))) struct FuzzTests {
    @Test func jsonParser() { FuzzTargets.json.run() }
    @Test func openAIChatRequest() { FuzzTargets.chatRequest.run() }
    @Test func openAIEmbeddingsRequest() { FuzzTargets.embeddingsRequest.run() }
    @Test func sseDecoder() { FuzzTargets.sse.run() }
    @Test func ndjsonDecoder() { FuzzTargets.ndjson.run() }
    @Test func awsEventStreamDecoder() { FuzzTargets.eventStream.run() }
    @Test func yamlConfig() { FuzzTargets.yamlConfig.run() }
    @Test func retryAfter() { FuzzTargets.retryAfter.run() }

    @Test func openAIResponse() { run("openai-response") }
    @Test func openAIStream() { run("openai-stream") }
    @Test func openAIError() { run("openai-error") }
    @Test func azureResponse() { run("azure-response") }
    @Test func azureStream() { run("azure-stream") }
    @Test func azureError() { run("azure-error") }
    @Test func anthropicResponse() { run("anthropic-response") }
    @Test func anthropicStream() { run("anthropic-stream") }
    @Test func anthropicError() { run("anthropic-error") }
    @Test func geminiResponse() { run("gemini-response") }
    @Test func geminiStream() { run("gemini-stream") }
    @Test func geminiError() { run("gemini-error") }
    @Test func bedrockResponse() { run("bedrock-response") }
    @Test func bedrockStream() { run("bedrock-stream") }
    @Test func bedrockError() { run("bedrock-error") }
    @Test func cohereResponse() { run("cohere-response") }
    @Test func cohereStream() { run("cohere-stream") }
    @Test func cohereError() { run("cohere-error") }
    @Test func ollamaResponse() { run("ollama-response") }
    @Test func ollamaStream() { run("ollama-stream") }
    @Test func ollamaError() { run("ollama-error") }

    func run(_ name: String) {
        guard let target = FuzzTargets.named(name) else {
            Issue.record("no fuzz target named \(name)")
            return
        }
        target.run()
    }
}

/// Every seed in `Corpus/` and every crash input in `Crashes/`, replayed on every run: a fixed
/// crash stays fixed even when the mutation stream changes.
@Suite struct CorpusReplayTests {
    @Test(arguments: FuzzTargets.all.map(\.name))
    func replay(target name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        target.replay()
    }

    /// A crash input filed under a name that is no target would never be replayed.
    @Test func everyFolderNamesATarget() throws {
        let names = Set(FuzzTargets.all.map(\.name))
        for folder in ["Corpus", "Crashes"] {
            let url = FuzzTarget.directory.appendingPathComponent(folder)
            let entries = try FileManager.default.contentsOfDirectory(atPath: url.path)
            for entry in entries where !entry.hasPrefix(".") && entry != "README.md" {
                #expect(names.contains(entry), "\(folder)/\(entry) is not a fuzz target")
            }
        }
        for name in names {
            #expect(!FuzzTargets.named(name)!.files(in: "Corpus").isEmpty, "Corpus/\(name) is empty")
        }
    }
}
