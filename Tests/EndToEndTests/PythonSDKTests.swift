import Foundation
import Testing

@testable import Proxy

/// The official Python SDKs against the gateway: OpenAI's against translated providers (Gemini,
/// Bedrock, Anthropic), Anthropic's against `POST /v1/messages`. Needs `pip install openai
/// anthropic`; `.ci/run` installs both, so CI always runs these.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PythonSDKTests {
    static func importable(_ module: String) -> Bool {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import \(module)"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    static let hasOpenAI = importable("openai")
    static let hasAnthropic = importable("anthropic")

    /// Each script checks the SDK's parsed objects, prints `ok …` lines and exits non-zero on a mismatch.
    static let openAIScript = #"""
        import json, sys, openai
        base, key, mock_text = sys.argv[1], sys.argv[2], sys.argv[3]
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
                  "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}}}}]
        for model in ("gemini", "bedrock"):
            reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "What is the capital of France?"}])
            choice = reply.choices[0]
            assert choice.message.content == "The capital of France is Paris." and choice.finish_reason == "stop", reply
            assert reply.usage.prompt_tokens == 1250 and reply.usage.completion_tokens == 73, reply.usage
            assert reply.usage.prompt_tokens_details.cached_tokens == 1024, reply.usage
            text, arguments, names, finish, usage = "", "", [], None, None
            stream = client.chat.completions.create(model=model, stream=True, stream_options={"include_usage": True},
                tools=tools, messages=[{"role": "user", "content": "What's the weather in Paris right now?"}])
            for chunk in stream:
                usage = chunk.usage or usage
                for c in chunk.choices:
                    text += c.delta.content or ""
                    for call in c.delta.tool_calls or []:
                        if call.function and call.function.name: names.append(call.function.name)
                        arguments += (call.function.arguments or "") if call.function else ""
                    finish = c.finish_reason or finish
            assert text == "Let me check the current weather in Paris.", text
            assert names == ["get_weather"] and json.loads(arguments) == {"city": "Paris", "unit": "celsius"}, (names, arguments)
            assert finish == "tool_calls" and usage.prompt_tokens == 312 and usage.completion_tokens == 41, (finish, usage)
            print("ok", model)
        reply = client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "Say hello"}])
        assert reply.choices[0].message.content == mock_text and reply.usage.prompt_tokens_details.cached_tokens == 5, reply
        print("ok claude")
        """#

    static let anthropicScript = #"""
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

    @Test(.enabled(if: hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func openAISDKReadsTranslatedProviders() async throws {
        let config =
            TranslatedProvidersEndToEndTests.config + """

                  - model_name: claude
                    litellm_params: {model: anthropic/claude-mock, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
                """
        try await Harness.with(config: config) { h in
            let (status, output) = try await Self.runPython(Self.openAIScript, [h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok gemini") && output.contains("ok bedrock") && output.contains("ok claude"), "\(output)")
        }
    }

    @Test(.enabled(if: hasAnthropic, "needs python3 with the anthropic package (pip install anthropic)"))
    func anthropicSDKReadsMessagesAnswers() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let (status, output) = try await Self.runPython(
                Self.anthropicScript, [h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            #expect(
                output.contains("ok gpt-4o-mini") && output.contains("ok claude") && output.contains("ok rate limit"), "\(output)"
            )
        }
    }

    static func runPython(_ script: String, _ arguments: [String]) async throws -> (Int32, String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-sdk-\(UUID()).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await run(["python3", file.path] + arguments)
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
