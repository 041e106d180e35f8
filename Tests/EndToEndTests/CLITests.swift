import AsyncHTTPClient
import Foundation
import GatewayTesting
import NIOCore
import Store
import Telemetry
import Testing

/// `spanway keys`, `spend`, `check` and `mock-upstream`, through the real binary.
@Suite(.timeLimit(.minutes(3))) struct CLITests {
    /// Runs the binary on a thread of its own (a blocking wait here would hold one of the few
    /// threads every other test runs on); returns its status and standard output.
    func run(_ arguments: [String], database: String) async throws -> (status: Int32, out: String) {
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: arguments,
            environment: ["DATABASE_URL": "sqlite:\(database)", "PATH": "/usr/bin:/bin"], standardError: false)
        let status = await child.exit()
        return (status, child.output)
    }

    @Test(.enabled(if: CrashTests.runnable, "needs .build/debug/spanway, which swift test builds"))
    func keysCreateListRevoke() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-cli-\(UUID().uuidString).db").path
        let created = try await run(
            ["keys", "create", "--alias", "ops", "--models", "a,b", "--max-budget", "2.5", "--rpm", "60"], database: database)
        #expect(created.status == 0)
        let key = created.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sk-"))
        let stored = try #require(try await SQLiteStore(path: database).fetch(VirtualKey.self, id: KeyDigest(key: key).hex))
        #expect(
            stored.keyAlias == "ops" && stored.limits.models == ["a", "b"] && stored.limits.maxBudget == 2.5
                && stored.limits.rpmLimit == 60)

        let listed = try await run(["keys", "list"], database: database)
        #expect(
            listed.status == 0 && listed.out.contains(stored.token) && listed.out.contains("ops") && !listed.out.contains(key))
        #expect(try await run(["keys", "create", "--team", "missing"], database: database).status != 0)

        #expect(try await run(["keys", "revoke", key], database: database).out.contains("revoked 1 of 1"))
        #expect(try await SQLiteStore(path: database).fetch(VirtualKey.self, id: stored.token) == nil)
        #expect(try await run(["keys", "revoke", key], database: database).status != 0)
        let report = try await run(["spend", "report", "--by", "team", "--since", "7d"], database: database)
        #expect(report.status == 0 && report.out.contains("total"))
    }

    static var needsBinary: ConditionTrait {
        .enabled(if: CrashTests.runnable, "needs .build/debug/spanway, which swift test builds")
    }

    /// Runs `spanway check` on `yaml`; returns its exit status and everything it printed.
    func check(_ yaml: String) async throws -> (status: Int32, out: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-check-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["check", "--config", file.path], environment: ["PATH": "/usr/bin:/bin"])
        let status = await child.exit()
        return (status, child.output)
    }

    @Test(needsBinary) func checkAcceptsAValidConfig() async throws {
        let result = try await check(
            """
            model_list:
              - model_name: chat
                litellm_params: {model: mock/gpt-4o-mini}
              - model_name: chat
                litellm_params: {model: mock/gpt-4o}
            """)
        #expect(result.status == 0, "\(result.out)")
        #expect(result.out.contains("ok: 2 deployments in 1 model groups"), "\(result.out)")
    }

    /// Every problem is printed with its YAML path, and any error makes the exit status 1.
    @Test(needsBinary) func checkNamesEveryProblemAndFails() async throws {
        let result = try await check(
            """
            model_list:
              - model_name: chat
                litellm_params: {model: mock/gpt-4o-mini}
            router_settings:
              model_group_alias: {gpt4: missing}
              fallbacks: [{chat: [nowhere]}]
            """)
        #expect(result.status == 1, "\(result.out)")
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(
            lines.contains("error: router_settings.model_group_alias.gpt4: 'missing' is not a model_name in model_list"),
            "\(result.out)")
        #expect(lines.contains("error: fallbacks: 'nowhere' is not a model_name in model_list"), "\(result.out)")
        #expect(!result.out.contains("ok:"))
    }

    @Test(needsBinary) func checkRefusesAnUnreadableFile() async throws {
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["check", "--config", "/nonexistent/spanway.yaml"],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(await child.exit() == 1)
        #expect(child.output.contains("cannot read /nonexistent/spanway.yaml"))
    }

    /// `mock-upstream` serves the deterministic mock as an OpenAI-compatible API, and stops on SIGTERM.
    @Test(needsBinary) func mockUpstreamServesChatCompletions() async throws {
        let child = try ChildProcess(
            executable: CrashTests.binary, arguments: ["mock-upstream", "--host", "127.0.0.1", "--port", "0"],
            environment: ["PATH": "/usr/bin:/bin", "LOG_LEVEL": "info"])
        let address = try #require(await child.firstMatch(of: #"listening on 127\.0\.0\.1:\d+"#), "\(child.output)")
        let port = try #require(address.split(separator: ":").last.map(String.init))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(
                ByteBuffer(string: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}"#))
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try JSONParser.parse(Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
            #expect(response.status == .ok)
            #expect(body["object"] == "chat.completion" && body["choices"]?.arrayValue?.first?["message"]?["role"] == "assistant")
            #expect(body["usage"]?["completion_tokens"]?.intValue ?? 0 > 0)

            var models = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/models")
            models.method = .GET
            #expect(try await client.execute(models, timeout: .seconds(10)).status == .ok)
        } catch {
            child.process.terminate()
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        child.process.terminate()
        #expect(await child.exit() == 0, "\(child.output)")
    }
}
