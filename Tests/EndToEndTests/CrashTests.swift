import AsyncHTTPClient
import Foundation
import GatewayTesting
import NIOCore
import Store
import Synchronization
import Testing

/// `kill -9` under load loses no answered request's spend: every response the client received
/// has its ledger row after a restart. Runs the real binary that `swift test` builds.
@Suite(.serialized, .timeLimit(.minutes(3))) struct CrashTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/spanway").path
    static var runnable: Bool {
        FileManager.default.isExecutableFile(atPath: binary) || ProcessInfo.processInfo.environment["CI"] != nil
    }

    struct Gateway {
        let child: ChildProcess
        let url: String
        var process: Process { child.process }
    }

    final class Tally: Sendable {
        let received = Mutex<[String]>([])
        let killed = Atomic<Bool>(false)
        /// Yields once, when `enough` answers have arrived: the moment to kill the gateway.
        let loaded: AsyncStream<Void>
        private let signal: AsyncStream<Void>.Continuation
        static let enough = 100

        init() {
            (loaded, signal) = AsyncStream.makeStream()
        }

        func record(_ id: String) {
            let count = received.withLock { received in
                received.append(id)
                return received.count
            }
            if count == Self.enough { signal.yield() }
        }
    }

    /// Starts `spanway serve` and returns once it logged its address (a start-up failure ends
    /// its output instead, and throws here).
    static func start(in directory: URL, database: String) async throws -> Gateway {
        let config = directory.appendingPathComponent("config.yaml")
        try "model_list: [{model_name: m, litellm_params: {model: mock/gpt-4o-mini}}]\ngeneral_settings: {master_key: sk-crash}\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("gateway-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let child = try ChildProcess(
            executable: binary, arguments: ["serve", "--config", config.path, "--host", "127.0.0.1", "--port", "0"],
            environment: ["DATABASE_URL": "sqlite:\(database)", "LOG_LEVEL": "info", "PATH": "/usr/bin:/bin"],
            log: try FileHandle(forWritingTo: log))
        guard let address = await child.firstMatch(of: #"address=127\.0\.0\.1:\d+"#),
            let port = address.split(separator: ":").last
        else {
            child.process.terminate()
            throw StartFailed(output: child.output)
        }
        return Gateway(child: child, url: "http://127.0.0.1:\(port)")
    }

    struct StartFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "spanway serve stopped before listening:\n\(output)" }
    }

    @Test(.enabled(if: runnable, "needs .build/debug/spanway, which swift test builds"))
    func killNineLosesNoAnsweredSpend() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let started = Started()
        let outcome: (answered: Set<String>, rows: Set<String>)
        do {
            outcome = try await Self.killAndRestart(in: directory, client: client, started: started)
        } catch {
            // However the test ends (a failure, its time limit), no gateway is left running and
            // the client is shut down: a client dropped without that crashes the whole run.
            for child in started.children.withLock({ $0 }) where child.process.isRunning { child.process.terminate() }
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()

        let (answered, rows) = outcome
        #expect(answered.count >= Tally.enough, "the load generator got too few answers to mean anything: \(answered.count)")
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

    /// The gateways a test started, to stop them when it fails.
    final class Started: Sendable {
        let children = Mutex<[ChildProcess]>([])

        func add(_ gateway: Gateway) -> Gateway {
            children.withLock { $0.append(gateway.child) }
            return gateway
        }
    }

    /// Loads a gateway, kills it with SIGKILL, restarts it on the same database; returns the
    /// request ids answered before the kill and those in the ledger after the restart.
    static func killAndRestart(
        in directory: URL, client: HTTPClient, started: Started
    ) async throws -> (answered: Set<String>, rows: Set<String>) {
        let database = directory.appendingPathComponent("ledger.db").path
        let gateway = started.add(try await Self.start(in: directory, database: database))
        let tally = Tally()
        let url = gateway.url
        let pid = gateway.process.processIdentifier

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while !tally.killed.load(ordering: .relaxed) && !Task.isCancelled {
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
                                tally.record(id)
                            }
                        } catch {
                            if tally.killed.load(ordering: .relaxed) { return }
                        }
                    }
                }
            }
            group.addTask {
                // Killed under load: once enough answers arrived, with requests still in flight.
                for await _ in tally.loaded { break }
                kill(pid, SIGKILL)
                tally.killed.store(true, ordering: .relaxed)
            }
            try await group.waitForAll()
        }
        try Task.checkCancellation()
        _ = await gateway.child.exit()
        #expect(gateway.process.terminationReason == .uncaughtSignal)

        // What the killed process left: every answered row is in its spend journal or already in
        // the store (the journal is what answers wait for, not the store).
        let stored = Set(try await SQLiteStore(path: database).spendLogs(SpendQuery(limit: 100_000)).map(\.requestID))
        let journaled = try Self.journaledRequestIDs(in: database + ".spend-journal")
        let answered = Set(tally.received.withLock { $0 })
        #expect(answered.isSubset(of: stored.union(journaled)))
        print("crash test: at the kill, \(answered.subtracting(stored).count) answered rows were in the journal only")

        // Restart on the same database: it recovers the WAL and serves the ledger.
        let restarted = started.add(try await Self.start(in: directory, database: database))
        var request = HTTPClientRequest(url: restarted.url + "/spend/logs?page_size=1000&page=1")
        request.headers.add(name: "authorization", value: "Bearer sk-crash")
        var rows: Set<String> = []
        for page in 1...100 {
            request.url = restarted.url + "/spend/logs?page_size=1000&page=\(page)"
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 << 20)
            try #require(response.status == .ok, "\(String(buffer: body))")
            let ids = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]] ?? []
            rows.formUnion(ids.compactMap { $0["request_id"] as? String })
            if ids.count < 1000 { break }
        }
        restarted.process.terminate()
        _ = await restarted.child.exit()
        #expect(
            try journaledRequestIDs(in: database + ".spend-journal").isEmpty,
            "a gateway stopped cleanly leaves no journal rows behind")
        return (answered, rows)
    }

    /// The request ids in a spend journal's segments (one JSON row per line).
    static func journaledRequestIDs(in directory: String) throws -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var ids: Set<String> = []
        for name in names where name.hasSuffix(".jsonl") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let row = try? JSONDecoder().decode(SpendRow.self, from: line) { ids.insert(row.requestID) }
            }
        }
        return ids
    }
}
