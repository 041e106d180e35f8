import AsyncHTTPClient
import Foundation
import NIOCore
import Store
import Synchronization
import Testing

/// `kill -9` under load loses no answered request's spend: every response the client received
/// has its ledger row after a restart. Runs the real binary that `swift test` builds.
@Suite(.serialized) struct CrashTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/spanway").path
    static var runnable: Bool {
        FileManager.default.isExecutableFile(atPath: binary) || ProcessInfo.processInfo.environment["CI"] != nil
    }

    struct Gateway {
        let process: Process
        let url: String
    }

    final class Tally: Sendable {
        let received = Mutex<[String]>([])
        let killed = Atomic<Bool>(false)
    }

    static func start(in directory: URL, database: String) async throws -> Gateway {
        let config = directory.appendingPathComponent("config.yaml")
        try "model_list: [{model_name: m, litellm_params: {model: mock/gpt-4o-mini}}]\ngeneral_settings: {master_key: sk-crash}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("gateway-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", config.path, "--host", "127.0.0.1", "--port", "0"]
        process.environment = ["DATABASE_URL": "sqlite:\(database)", "LOG_LEVEL": "info", "PATH": "/usr/bin:/bin"]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<300 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"address=127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = text[range].split(separator: ":").last.map(String.init) ?? ""
                return Gateway(process: process, url: "http://127.0.0.1:\(port)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw CancellationError()
    }

    @Test(.enabled(if: runnable, "needs .build/debug/spanway, which swift test builds"))
    func killNineLosesNoAnsweredSpend() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("ledger.db").path
        let gateway = try await Self.start(in: directory, database: database)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let tally = Tally()
        let url = gateway.url
        let pid = gateway.process.processIdentifier

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while !tally.killed.load(ordering: .relaxed) {
                        var request = HTTPClientRequest(url: url + "/v1/chat/completions")
                        request.method = .POST
                        request.headers.add(name: "authorization", value: "Bearer sk-crash")
                        request.body = .bytes(ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#))
                        do {
                            let response = try await client.execute(request, timeout: .seconds(5))
                            let body = try await response.body.collect(upTo: 1 << 20)
                            // Counted only when the whole answer arrived.
                            if response.status == .ok, body.readableBytes > 0,
                                let id = response.headers.first(name: "x-spanway-request-id")
                            {
                                tally.received.withLock { $0.append(id) }
                            }
                        } catch {
                            if tally.killed.load(ordering: .relaxed) { return }
                        }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(1500))
                kill(pid, SIGKILL)
                tally.killed.store(true, ordering: .relaxed)
            }
            try await group.waitForAll()
        }
        gateway.process.waitUntilExit()
        #expect(gateway.process.terminationReason == .uncaughtSignal)

        // Restart on the same database: it recovers the WAL and serves the ledger.
        let restarted = try await Self.start(in: directory, database: database)
        var request = HTTPClientRequest(url: restarted.url + "/spend/logs?page_size=1000&page=1")
        request.headers.add(name: "authorization", value: "Bearer sk-crash")
        var rows: Set<String> = []
        for page in 1...100 {
            request.url = restarted.url + "/spend/logs?page_size=1000&page=\(page)"
            let body = try await client.execute(request, timeout: .seconds(10)).body.collect(upTo: 64 << 20)
            let ids = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]] ?? []
            rows.formUnion(ids.compactMap { $0["request_id"] as? String })
            if ids.count < 1000 { break }
        }
        restarted.process.terminate()
        restarted.process.waitUntilExit()
        try await client.shutdown()

        let answered = Set(tally.received.withLock { $0 })
        #expect(answered.count > 50, "the load generator got too few answers to mean anything: \(answered.count)")
        #expect(answered.isSubset(of: rows), "\(answered.subtracting(rows).count) answered requests have no row")
        // Rows beyond the answers are requests committed while the process died before answering.
        #expect(rows.count - answered.count <= 16)
        // Neither run's log ever printed the key.
        let logs = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".log") }
        #expect(logs.count == 2)
        for name in logs {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(text.contains("spanway listening") && !text.contains("sk-crash"), "\(name)")
        }
        print("crash test: \(answered.count) answers received, \(rows.count) ledger rows after kill -9 and restart")
    }
}
