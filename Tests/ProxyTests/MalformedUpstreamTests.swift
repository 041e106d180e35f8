import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// Every translated provider, given a cut-off or corrupted answer: a 502 naming the problem,
/// never a crash, never a silent success with made-up content.
@Suite struct MalformedUpstreamTests {
    static let cases: [(provider: String, response: String, stream: String)] = [
        ("openai", "openai/chat.response.json", "openai/chat.stream.sse"),
        ("azure", "azure/chat.response.json", "azure/chat.stream.sse"),
        ("anthropic", "anthropic/messages.response.json", "anthropic/messages.stream.sse"),
        ("gemini", "gemini/generateContent.response.json", "gemini/streamGenerateContent.sse"),
        ("bedrock", "bedrock/converse.response.json", "bedrock/converse-stream.bin"),
        ("cohere", "cohere/chat.response.json", "cohere/chat.stream.sse"),
        ("ollama", "ollama/chat.response.json", "ollama/chat.stream.ndjson"),
    ]

    static let request = try! OpenAIRequest(
        operation: .chat, bytes: Array(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#.utf8))

    @Test(arguments: cases)
    func truncatedResponsesAre502s(provider: String, response: String, stream: String) throws {
        let adapter = try #require(ProviderCatalogue.adapters[provider])
        let bytes = try Fixture.bytes(response)
        // Every proper prefix of the answer is refused as a bad upstream response.
        for cut in 0..<bytes.count where !bytes[cut...].allSatisfy({ $0 == 0x0A || $0 == 0x20 }) {
            do throws(GatewayError) {
                _ = try adapter.parseResponse(Array(bytes[..<cut]), for: Self.request)
                Issue.record("\(provider): accepted the answer cut at \(cut) of \(bytes.count)")
                return
            } catch {
                #expect(error.status == 502 && !error.message.isEmpty, "\(provider) at \(cut)")
            }
        }
        for garbage in ["", "null", "[]", "{}", #"{"choices":"x","content":7,"candidates":{},"output":[]}"#, "\u{FF}\u{FE}"] {
            #expect(throws: GatewayError.self, "\(provider): \(garbage)") {
                _ = try adapter.parseResponse(Array(garbage.utf8), for: Self.request)
            }
        }
    }

    /// A stream cut anywhere ends either in an error or, before anything arrived, in nothing;
    /// it never ends as if complete.
    @Test(arguments: cases)
    func truncatedStreamsNeverLookComplete(provider: String, response: String, stream: String) throws {
        let adapter = try #require(ProviderCatalogue.adapters[provider])
        let bytes = try Fixture.bytes(stream)
        for cut in stride(from: 1, to: bytes.count - 16, by: 13) {
            var decoder = adapter.makeStreamDecoder(for: Self.request)
            var chunks: [StreamChunk] = []
            var failed = false
            do throws(GatewayError) {
                chunks = try decoder.feed(ByteBuffer(bytes: bytes[..<cut]))
                chunks += try decoder.finish()
            } catch {
                #expect(error.status == 502, "\(provider) at \(cut)")
                failed = true
            }
            let done = chunks.contains { if case .done = $0 { true } else { false } }
            let errorChunk = chunks.contains { if case .chunk(let object, _) = $0 { object["error"] != nil } else { false } }
            #expect(failed || !done || errorChunk, "\(provider): a stream cut at \(cut) of \(bytes.count) ended as if complete")
        }
    }
}
