import Foundation
import Testing

@testable import Proxy

/// The official Anthropic Python SDK against `POST /v1/messages`, to an OpenAI and to an
/// Anthropic upstream. Needs `pip install anthropic`; `.ci/run` installs it, so CI always runs it.
@Suite(.serialized) struct AnthropicSDKTests {
    static let available: Bool = {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import anthropic"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// Checks the SDK's parsed objects; prints one line per model and exits non-zero on a mismatch.
    static let script = #"""
        import sys, anthropic
        base, key, expected = sys.argv[1], sys.argv[2], sys.argv[3]
        client = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
        for model in ("gpt-4o-mini", "claude"):
            message = client.messages.create(model=model, max_tokens=100, system="Be brief.",
                                             messages=[{"role": "user", "content": "Say hello"}])
            assert message.type == "message" and message.role == "assistant", message
            assert message.content[0].type == "text" and message.content[0].text == expected, message.content
            assert message.stop_reason == "end_turn", message.stop_reason
            assert message.usage.output_tokens > 0, message.usage
            with client.messages.stream(model=model, max_tokens=100,
                                        messages=[{"role": "user", "content": "Say hello"}]) as stream:
                text = "".join(stream.text_stream)
                final = stream.get_final_message()
            assert text == expected, text
            assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0, final
            print("ok", model, message.usage.input_tokens, final.usage.output_tokens)
        try:
            client.messages.create(model="e429", max_tokens=10, messages=[{"role": "user", "content": "x"}])
            sys.exit("a 429 upstream did not raise")
        except anthropic.RateLimitError as error:
            assert error.body["error"]["type"] == "rate_limit_error", error.body
            print("ok rate limit")
        """#

    @Test(.enabled(if: available, "needs python3 with the anthropic package (pip install anthropic)"))
    func anthropicSDKReadsMessagesAnswers() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let script = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-anthropic-\(UUID()).py")
            try Self.script.write(to: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: script) }
            let (status, output) = try await Self.run(["python3", script.path, h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok gpt-4o-mini") && output.contains("ok claude") && output.contains("ok rate limit"), "\(output)")
        }
    }

    /// Runs a command without blocking a concurrency thread (the gateway serves it in-process).
    static func run(_ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-sdk-\(UUID()).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try handle.close()
        return (status, String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self))
    }
}
