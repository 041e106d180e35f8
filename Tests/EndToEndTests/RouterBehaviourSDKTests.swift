import Foundation
import Store
import Testing

@testable import Proxy

/// LiteLLM's router parameters as the SDKs send them: the official OpenAI SDK with `extra_body`
/// (its own `timeout=` is a client-side HTTP timeout, never sent), and the `litellm` SDK itself
/// through its `litellm_proxy/` provider. Both need python3 with the package; `.ci/run` installs them.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RouterBehaviourSDKTests {
    /// Whether python3 has `module`, without importing it (importing `litellm` takes seconds).
    static func installed(_ module: String) -> Bool {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [
            "python3", "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('\(module)') is None)",
        ]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    static let hasOpenAI = installed("openai")
    static let hasLiteLLM = installed("litellm")

    static let config = """
        router_settings: {num_retries: 2, allowed_fails: 1000}
        model_list:
          - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}}
          - {model_name: failing, litellm_params: {model: openai/error-500, api_base: "{upstream}"}}
          - {model_name: hang, litellm_params: {model: mock/slow-600000}}
        """

    /// Prints `request <id>` for the tagged call and `ok …` lines; exits non-zero on a mismatch.
    static let openAIScript = #"""
        import sys, time, openai
        base, key = sys.argv[1], sys.argv[2]
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
        messages = [{"role": "user", "content": "Say hello"}]
        raw = client.chat.completions.with_raw_response.create(model="g", messages=messages,
            extra_body={"tags": ["sdk-a", "sdk-b"], "num_retries": 0})
        assert raw.parse().choices[0].message.content, raw
        print("request", raw.headers["x-spanway-request-id"])
        try:
            client.chat.completions.create(model="failing", messages=messages, extra_body={"num_retries": 1})
            sys.exit("a failing upstream did not raise")
        except openai.InternalServerError as error:
            assert error.response.headers["x-litellm-attempted-retries"] == "1", error.response.headers
            print("ok retries")
        started = time.monotonic()
        try:
            client.chat.completions.create(model="hang", messages=messages, timeout=30,
                extra_body={"timeout": 0.3, "num_retries": 0})
            sys.exit("a hanging upstream did not raise")
        except openai.APIStatusError as error:
            assert error.status_code == 408, error
            assert error.response.headers["x-litellm-timeout"] == "0.3", error.response.headers
            assert error.response.json()["error"]["message"].startswith("litellm.Timeout:"), error.response.text
            assert time.monotonic() - started < 10
            print("ok timeout")
        """#

    static let liteLLMScript = #"""
        import os, sys
        # Without this, importing litellm fetches its price list from the internet.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm
        base, key, expected = sys.argv[1], sys.argv[2], sys.argv[3]
        messages = [{"role": "user", "content": "Say hello"}]
        reply = litellm.completion(model="litellm_proxy/g", api_base=base, api_key=key, messages=messages,
            extra_body={"tags": ["litellm-sdk"]}, num_retries=0)
        assert reply.choices[0].message.content == expected, reply
        print("ok answer")
        try:
            litellm.completion(model="litellm_proxy/hang", api_base=base, api_key=key, messages=messages,
                extra_body={"timeout": 0.3, "num_retries": 0}, num_retries=0, max_retries=0)
            sys.exit("a hanging upstream did not raise")
        except litellm.Timeout as error:
            assert error.status_code == 408 and "timeout value=0.3" in str(error), error
            print("ok timeout")
        """#

    /// The ledger's tags for a request id.
    static func tags(_ h: Harness, requestID: String) async throws -> [String]? {
        try #require(try await h.store.spendLogs(SpendQuery(limit: 1000)).first { $0.requestID == requestID }).tags
    }

    @Test(.enabled(if: hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func openAISDKSendsTagsRetriesAndTimeoutsInExtraBody() async throws {
        try await Harness.with(config: Self.config) { h in
            let before = h.upstream.count
            let (status, output) = try await PythonSDKTests.runPython(Self.openAIScript, [h.gatewayURL, Harness.master])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok retries") && output.contains("ok timeout"), "\(output)")
            // The tagged call, two calls to the failing upstream (num_retries 1), one to the hanging one.
            #expect(h.upstream.count - before == 4, "\(output)")
            let id = try #require(output.split(separator: "\n").first { $0.hasPrefix("request ") }?.dropFirst(8))
            #expect(try await Self.tags(h, requestID: String(id)) == ["sdk-a", "sdk-b"])
        }
    }

    @Test(.enabled(if: hasLiteLLM, "needs python3 with the litellm package (pip install litellm)"))
    func liteLLMSDKAsAClient() async throws {
        try await Harness.with(config: Self.config) { h in
            let (status, output) = try await PythonSDKTests.runPython(
                Self.liteLLMScript, [h.gatewayURL, Harness.master, MockUpstream.text])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok answer") && output.contains("ok timeout"), "\(output)")
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            #expect(rows.contains { $0.tags == ["litellm-sdk"] }, "the SDK's extra_body tags are recorded")
            let hangCalls = h.upstream.requests.withLock {
                $0.filter { String(decoding: $0.body, as: UTF8.self).contains("slow-600000") }.count
            }
            #expect(hangCalls == 1, "num_retries 0 from extra_body: one attempt")
        }
    }
}
