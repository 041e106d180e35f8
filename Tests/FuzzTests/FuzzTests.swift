import Foundation
import Testing

/// One test per fuzz target (see Fuzzer.swift for the design and the environment knobs). The
/// targets are synchronous and CPU-bound: they run one at a time, each on a thread of its own,
/// so they never hold Swift's cooperative threads (two on a 2-core machine) that every other
/// test's `.timeLimit` clock runs on.
@Suite(.serialized, .timeLimit(.minutes(10))) struct FuzzTests {
    @Test func jsonParser() async { await fuzz(FuzzTargets.json) }
    @Test func openAIChatRequest() async { await fuzz(FuzzTargets.chatRequest) }
    @Test func openAIEmbeddingsRequest() async { await fuzz(FuzzTargets.embeddingsRequest) }
    @Test func openAIResponsesRequest() async { await fuzz(FuzzTargets.responsesRequest) }
    @Test func openAICompletionsRequest() async { await fuzz(FuzzTargets.completionsRequest) }
    @Test func multipartForm() async { await fuzz(FuzzTargets.multipartForm) }
    @Test func sseDecoder() async { await fuzz(FuzzTargets.sse) }
    @Test func ndjsonDecoder() async { await fuzz(FuzzTargets.ndjson) }
    @Test func awsEventStreamDecoder() async { await fuzz(FuzzTargets.eventStream) }
    @Test func yamlConfig() async { await fuzz(FuzzTargets.yamlConfig) }
    @Test func retryAfter() async { await fuzz(FuzzTargets.retryAfter) }

    @Test func openAIResponse() async { await run("openai-response") }
    @Test func openAIStream() async { await run("openai-stream") }
    @Test func openAIError() async { await run("openai-error") }
    @Test func azureResponse() async { await run("azure-response") }
    @Test func azureStream() async { await run("azure-stream") }
    @Test func azureError() async { await run("azure-error") }
    @Test func anthropicResponse() async { await run("anthropic-response") }
    @Test func anthropicStream() async { await run("anthropic-stream") }
    @Test func anthropicError() async { await run("anthropic-error") }
    @Test func geminiResponse() async { await run("gemini-response") }
    @Test func geminiStream() async { await run("gemini-stream") }
    @Test func geminiError() async { await run("gemini-error") }
    @Test func bedrockResponse() async { await run("bedrock-response") }
    @Test func bedrockStream() async { await run("bedrock-stream") }
    @Test func bedrockError() async { await run("bedrock-error") }
    @Test func cohereResponse() async { await run("cohere-response") }
    @Test func cohereStream() async { await run("cohere-stream") }
    @Test func cohereError() async { await run("cohere-error") }
    @Test func ollamaResponse() async { await run("ollama-response") }
    @Test func ollamaStream() async { await run("ollama-stream") }
    @Test func ollamaError() async { await run("ollama-error") }

    func run(_ name: String) async {
        guard let target = FuzzTargets.named(name) else {
            Issue.record("no fuzz target named \(name)")
            return
        }
        await fuzz(target)
    }

    func fuzz(_ target: FuzzTarget) async {
        for problem in await offPool({ target.run() }) { Issue.record(Comment(rawValue: problem)) }
    }
}

/// Runs `work` on a new thread and waits for its result without blocking a cooperative thread.
/// The thread runs at the lowest priority: the fuzz targets run for minutes, and on a 2-core
/// machine a fuzz thread at normal priority would take a whole core from every other test for
/// all that time, starving them past their time limits. At nice 19 it takes the idle time (on
/// Linux the nice value of `PRIO_PROCESS` 0 is the calling thread's).
func offPool<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { (done: CheckedContinuation<Result, Never>) in
        let thread = Thread {
            #if os(Linux)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            #endif
            done.resume(returning: work())
        }
        // Deeply nested inputs recurse in the parsers; the main thread's default is 8 MiB.
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Every seed in `Corpus/` and every crash input in `Crashes/`, replayed on every run: a fixed
/// crash stays fixed even when the mutation stream changes.
@Suite(.serialized) struct CorpusReplayTests {
    @Test(arguments: FuzzTargets.all.map(\.name))
    func replay(target name: String) async throws {
        let target = try #require(FuzzTargets.named(name))
        for problem in await offPool({ target.replay() }) { Issue.record(Comment(rawValue: problem)) }
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
