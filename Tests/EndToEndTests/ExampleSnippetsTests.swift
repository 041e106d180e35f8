import Foundation
import Testing

@testable import Proxy

/// The client snippets in `examples/clients` (OpenAI SDK, Anthropic SDK, LangChain, the litellm SDK,
/// curl) run against a gateway on the mock provider started with `examples/quickstart.yaml`, their
/// defaults' config, through `examples/check.py`; the collector and Prometheus configs beside them
/// are checked by the same script. Each needs its package (`pip install openai anthropic
/// langchain-openai litellm prometheus-client pyyaml`); outside CI a missing one skips its test.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ExampleSnippetsTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples")

    static let importable = PythonSDKTests.importable

    /// Runs `examples/check.py --only <name>` against a gateway started with the quickstart config.
    static func check(_ name: String) async throws {
        let config = try String(contentsOf: examples.appendingPathComponent("quickstart.yaml"), encoding: .utf8)
        try await Harness.with(config: config) { h in
            try await expectOK(name, baseURL: h.gatewayURL)
        }
    }

    static func expectOK(_ name: String, baseURL: String) async throws {
        var arguments = [
            "python3", examples.appendingPathComponent("check.py").path, "--base-url", baseURL,
            "--api-key", "sk-spanway-quickstart", "--expect", MockUpstream.text, "--only", name,
        ]
        if ProcessInfo.processInfo.environment["CI"] != nil { arguments.append("--require-all") }
        let (status, output) = try await PythonSDKTests.run(arguments)
        #expect(status == 0, "\(output)")
        #expect(output.split(separator: "\n").contains("ok \(name)"), "\(output)")
    }

    @Test(.enabled(if: importable("openai"), "needs python3 with the openai package (pip install openai)"))
    func openAISDK() async throws { try await Self.check("openai_sdk.py") }

    @Test(.enabled(if: importable("anthropic"), "needs python3 with the anthropic package (pip install anthropic)"))
    func anthropicSDK() async throws { try await Self.check("anthropic_sdk.py") }

    @Test(.enabled(if: importable("langchain_openai"), "needs python3 with langchain-openai (pip install langchain-openai)"))
    func langChain() async throws { try await Self.check("langchain_openai_client.py") }

    @Test(.enabled(if: importable("litellm"), "needs python3 with the litellm SDK (pip install litellm)"))
    func litellmSDK() async throws { try await Self.check("litellm_sdk.py") }

    @Test func curl() async throws { try await Self.check("curl.sh") }

    /// No collector binary is installable here, so its config is checked for structure (pipelines
    /// name defined components, the OTLP receiver takes HTTP); Prometheus's with `promtool check
    /// config` when promtool is installed.
    @Test(.enabled(if: importable("yaml"), "needs python3 with PyYAML (pip install pyyaml)"))
    func collectorAndPrometheusConfigs() async throws {
        for name in ["otel-collector.yaml", "prometheus.yml"] {
            try await Self.expectOK(name, baseURL: "http://127.0.0.1:1")
        }
    }
}
