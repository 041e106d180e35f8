import AsyncHTTPClient
import Foundation
import GatewayTesting
import NIOCore
import Telemetry
import Testing

@testable import Proxy

/// A LiteLLM config assembled from LiteLLM's docs (`examples/litellm/config.yaml`) through the real
/// binary: `check` without the secrets (`--allow-missing-env`) and with them, `serve` answering
/// with it against the mock upstream, and where `serve` listens by default.
@Suite(.timeLimit(.minutes(3))) struct LiteLLMConfigCLITests {
    static let example = CrashTests.root.appendingPathComponent("examples/litellm/config.yaml").path
    static let master = "sk-litellm-example-master-0123456789"

    /// Every variable the example reads, pointing its endpoints at `upstream` (the mock's `/v1`).
    static func environment(upstream: String, database: String) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:\(database)", "LOG_LEVEL": "info",
            "OPENAI_API_BASE": upstream, "OPENAI_API_KEY": "sk-openai-test", "AZURE_API_BASE_EU": upstream,
            "AZURE_API_KEY_EU": "azure-eu-test", "AZURE_API_BASE_US": upstream, "AZURE_API_KEY_US": "azure-us-test",
            "ANTHROPIC_API_KEY": "sk-ant-test", "AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "aws-secret-test",
            "AWS_REGION_NAME": "us-east-1", "LANGFUSE_PUBLIC_KEY": "pk-lf-test", "LANGFUSE_SECRET_KEY": "sk-lf-test",
            "LANGFUSE_HOST": upstream, "SLACK_WEBHOOK_URL": upstream + "/slack", "LITELLM_MASTER_KEY": master,
            "OTEL_SDK_DISABLED": "true",
        ]
    }

    func check(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, lines: [String]) {
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["check", "--config", Self.example] + arguments,
            environment: environment)
        let status = await child.exit()
        return (status, child.output.split(separator: "\n").map(String.init))
    }

    /// In CI, without the production secrets: exit 0, every unset variable listed as a warning.
    /// Without the flag the same run fails, naming each unset variable as an error.
    @Test(CLITests.needsBinary) func checkPassesWithoutSecretsWhenAllowed() async throws {
        let bare = ["PATH": "/usr/bin:/bin"]
        let allowed = try await check(["--allow-missing-env"], environment: bare)
        #expect(allowed.status == 0, "\(allowed.lines)")
        #expect(!allowed.lines.contains { $0.hasPrefix("error:") }, "\(allowed.lines)")
        for expected in [
            "warning: model_list[0].litellm_params.api_key: environment variable OPENAI_API_KEY is not set (allowed by --allow-missing-env)",
            "warning: credential_list[0].credential_values.api_key: environment variable AZURE_API_KEY_US is not set (allowed by --allow-missing-env)",
            "warning: general_settings.master_key: environment variable LITELLM_MASTER_KEY is not set (allowed by --allow-missing-env)",
            "warning: general_settings.proxy_batch_write_at: LiteLLM setting not supported by Spanway, ignored",
        ] {
            #expect(allowed.lines.contains(expected), "missing: \(expected)\n\(allowed.lines.joined(separator: "\n"))")
        }
        let warnings = allowed.lines.filter { $0.hasPrefix("warning:") }.count
        #expect(allowed.lines.last == "ok: 6 deployments in 5 model groups, \(warnings) warnings")

        let strict = try await check([], environment: bare)
        #expect(strict.status == 1)
        #expect(
            strict.lines.contains("error: model_list[0].litellm_params.api_key: environment variable OPENAI_API_KEY is not set"))
        #expect(strict.lines.contains("error: general_settings.alerting: SLACK_WEBHOOK_URL is required"))
        #expect(!strict.lines.contains { $0.hasPrefix("ok:") })
    }

    @Test(CLITests.needsBinary) func checkPassesWithTheEnvironmentSet() async throws {
        let result = try await check([], environment: Self.environment(upstream: "http://127.0.0.1:9/v1", database: "/tmp/x.db"))
        #expect(result.status == 0, "\(result.lines)")
        #expect(!result.lines.contains { $0.hasPrefix("error:") || $0.contains("is not set") }, "\(result.lines)")
        #expect(result.lines.last?.hasPrefix("ok: 6 deployments in 5 model groups") == true)
    }

    /// `serve` with the example answers a chat request through its OpenAI deployment (pointed at
    /// the in-process mock), listens on 127.0.0.1 by default, and its `json_logs` lines parse.
    @Test(CLITests.needsBinary) func serveAnswersWithTheExample() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-litellm-\(UUID().uuidString).db")
        try await withTestServer(MockUpstreamServer.makeRouter(upstream: MockUpstream())) { upstreamPort in
            let child = try ChildProcess(
                executable: CrashTests.binary, arguments: ["serve", "--config", Self.example, "--port", "0"],
                environment: Self.environment(upstream: "http://127.0.0.1:\(upstreamPort)/v1", database: database.path),
                standardError: false)
            defer { child.process.terminate() }
            let address = try #require(await child.firstMatch(of: #""address":"127\.0\.0\.1:\d+""#), "\(child.output)")
            let port = try #require(address.dropLast().split(separator: ":").last.map(String.init))
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "authorization", value: "Bearer \(Self.master)")
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(
                    ByteBuffer(string: #"{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello"}]}"#))
                let response = try await client.execute(request, timeout: .seconds(20))
                let body = try JSONParser.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
                #expect(response.status == .ok, "\(body)")
                #expect(body["choices"]?.arrayValue?.first?["message"]?["role"] == "assistant")
                #expect(response.headers.first(name: "x-spanway-model-group") == "gpt-4o")
            } catch {
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
            for line in child.output.split(separator: "\n") {
                #expect((try? JSONParser.parse(Array(line.utf8)).objectValue) != nil, "not a JSON log line: \(line)")
            }
            #expect(!child.output.contains(Self.master) && !child.output.contains("sk-openai-test"))
        }
        try? FileManager.default.removeItem(at: database)
    }

    /// On every interface with the quickstart's published master key, `serve` warns once on
    /// standard error; on loopback (the default) it does not.
    @Test(CLITests.needsBinary) func servingEveryInterfaceWithTheQuickstartKeyWarns() async throws {
        let quickstart = CrashTests.root.appendingPathComponent("examples/quickstart.yaml").path
        for host in ["0.0.0.0", nil] {
            let database = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-host-\(UUID().uuidString).db")
            let child = try ChildProcess(
                executable: CrashTests.binary,
                arguments: ["serve", "--config", quickstart, "--port", "0"] + (host.map { ["--host", $0] } ?? []),
                environment: ["PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:\(database.path)", "LOG_LEVEL": "info"])
            defer { child.process.terminate() }
            let listening = await child.firstMatch(of: #"address=[0-9.]+:\d+"#)
            #expect(listening?.hasPrefix("address=\(host ?? "127.0.0.1"):") == true, "\(child.output)")
            let warnings = child.output.components(separatedBy: "WARNING: spanway listens on").count - 1
            #expect(warnings == (host == nil ? 0 : 1), "\(child.output)")
            if host != nil { #expect(child.output.contains("published example key")) }
            try? FileManager.default.removeItem(at: database)
        }
    }

    /// LiteLLM reads its master key from `LITELLM_MASTER_KEY` when the config has none: such a
    /// deployment must not come up unauthenticated.
    @Test(CLITests.needsBinary) func litellmMasterKeyVariableIsTheMasterKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-lmk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.yaml")
        try "model_list: [{model_name: m, litellm_params: {model: mock/gpt-4o-mini}}]\n".write(
            to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["serve", "--config", config.path, "--port", "0"],
            environment: [
                "PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:\(directory.appendingPathComponent("s.db").path)",
                "LITELLM_MASTER_KEY": Self.master,
            ])
        defer { child.process.terminate() }
        let address = try #require(await child.firstMatch(of: #"address=127\.0\.0\.1:\d+"#), "\(child.output)")
        let port = try #require(address.split(separator: ":").last.map(String.init))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var statuses: [UInt] = []
        for key in [nil, Self.master] {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/models")
            if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
            do {
                statuses.append(try await client.execute(request, timeout: .seconds(10)).status.code)
            } catch {
                try await client.shutdown()
                throw error
            }
        }
        try await client.shutdown()
        #expect(statuses == [401, 200])
        #expect(!child.output.contains("NO MASTER KEY"))
    }
}
