import AsyncHTTPClient
import Foundation
import GatewayTesting
import Logging
import PostgresNIO
import PostgresStore
import Redis
import Synchronization
import Testing

/// Replicas of one gateway as real `spanway serve` processes (the binary `swift build` builds),
/// sharing a PostgreSQL schema of their own and the test Redis, as a fleet behind a load balancer
/// would. Each replica runs in its own working directory, where its spend journal lives, so a
/// replica restarted there replays what its killed predecessor left.
final class Replicas: Sendable {
    static let master = "sk-replicas-master"
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/spanway").path
    static let variables = ProcessInfo.processInfo.environment
    static let redisURL = variables["SPANWAY_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let databaseURL = variables["SPANWAY_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// Locally the tests need both services and the binary; under CI they always run, and
    /// whatever is missing fails them.
    static let runnable =
        variables["CI"] != nil
        || (redisURL != nil && databaseURL != nil && FileManager.default.isExecutableFile(atPath: binary))

    let directory: URL
    let config: URL
    /// The database URL the replicas get, naming this run's own schema.
    let databaseURL: String
    let redisURL: String
    let http: HTTPClient
    /// The test's own connections, to read what the replicas left in Redis and PostgreSQL.
    let redis: RedisClient
    let database: PostgresStore
    private let children: Mutex<[ChildProcess?]>
    private let clients: Mutex<[GatewayClient?]>

    private init(
        count: Int, directory: URL, config: URL, databaseURL: String, redisURL: String, redis: RedisClient,
        database: PostgresStore
    ) {
        self.directory = directory
        self.config = config
        self.databaseURL = databaseURL
        self.redisURL = redisURL
        self.http = HTTPClient(eventLoopGroupProvider: .singleton)
        self.redis = redis
        self.database = database
        children = Mutex(Array(repeating: nil, count: count))
        clients = Mutex(Array(repeating: nil, count: count))
    }

    /// Starts `count` replicas on `config` (a config's `model_list` and `router_settings`; the
    /// master key is added) and runs `body`. However `body` ends, no replica is left running and
    /// the schema is dropped.
    static func with(_ count: Int, config text: String, _ body: (Replicas) async throws -> Void) async throws {
        let redisURL = try #require(Self.redisURL, "SPANWAY_TEST_REDIS_URL is not set: run scripts/test-services.sh")
        let base = try #require(Self.databaseURL, "SPANWAY_TEST_DATABASE_URL is not set: run scripts/test-services.sh")
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run swift build")
        let schema = "replicas_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let databaseURL = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-replicas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("config.yaml")
        try "general_settings: {master_key: \(master)}\n\(text)\n".write(to: config, atomically: true, encoding: .utf8)
        var quiet = Logger(label: "replicas")
        quiet.logLevel = .error
        // Migrated here first, so the schema exists before any replica starts.
        let database = try await PostgresStore.connect(url: databaseURL, logger: quiet)
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisURL), logger: quiet)
        let replicas = Replicas(
            count: count, directory: directory, config: config, databaseURL: databaseURL, redisURL: redisURL,
            redis: redis, database: database)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count { group.addTask { try await replicas.start(index) } }
                try await group.waitForAll()
            }
            try await body(replicas)
        } catch {
            // The replicas' logs stay in `directory` for whoever reads the failure.
            await replicas.close(schema: schema)
            throw error
        }
        await replicas.close(schema: schema)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The running replica `index`, as a client.
    subscript(index: Int) -> GatewayClient {
        get throws {
            try #require(clients.withLock { $0[index] }, "replica \(index) is not running")
        }
    }

    /// Starts replica `index` (again, after a kill or a stop) in its working directory and
    /// returns once it logged its address.
    func start(_ index: Int) async throws {
        let workingDirectory = directory.appendingPathComponent("replica-\(index)")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        let log = directory.appendingPathComponent("replica-\(index)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        // `env -C` starts the gateway in its directory by exec: the pid is the gateway's own.
        let child = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: [
                "-C", workingDirectory.path, Self.binary, "serve", "--config", config.path, "--host", "127.0.0.1", "--port", "0",
            ],
            environment: [
                "DATABASE_URL": databaseURL, "REDIS_URL": redisURL, "LOG_LEVEL": "info", "PATH": "/usr/bin:/bin",
            ],
            log: try FileHandle(forWritingTo: log))
        children.withLock { $0[index] = child }
        guard let address = await child.firstMatch(of: #"address=127\.0\.0\.1:\d+"#),
            let port = address.split(separator: ":").last
        else {
            throw StartFailed(index: index, output: child.output)
        }
        let client = GatewayClient(baseURL: "http://127.0.0.1:\(port)", http: http, masterKey: Self.master)
        clients.withLock { $0[index] = client }
    }

    struct StartFailed: Error, CustomStringConvertible {
        var index: Int
        var output: String
        var description: String { "replica \(index) stopped before listening:\n\(output)" }
    }

    /// `kill -9`: the replica gets no chance to release, flush or say goodbye.
    func kill(_ index: Int) async {
        guard let child = detach(index) else { return }
        if child.process.isRunning { Foundation.kill(child.process.processIdentifier, SIGKILL) }
        _ = await child.exit()
    }

    /// A clean stop (SIGTERM): the replica finishes its requests and ingests its journal.
    func stop(_ index: Int) async {
        guard let child = detach(index) else { return }
        if child.process.isRunning { child.process.terminate() }
        _ = await child.exit()
    }

    func stopAll() async {
        let count = children.withLock { $0.count }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<count { group.addTask { await self.stop(index) } }
        }
    }

    private func detach(_ index: Int) -> ChildProcess? {
        clients.withLock { $0[index] = nil }
        return children.withLock { children in
            defer { children[index] = nil }
            return children[index]
        }
    }

    /// The rows left in replica `index`'s spend journal (none once it stopped cleanly).
    func journalFiles(_ index: Int) -> [String] {
        let journal = directory.appendingPathComponent("replica-\(index)/spanway.spend-journal")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: journal.path)) ?? []
        return names.filter { name in
            name.hasSuffix(".jsonl")
                && ((try? Data(contentsOf: journal.appendingPathComponent(name)))?.contains(UInt8(ascii: "\n")) ?? false)
        }
    }

    /// Redis's clock in milliseconds: the one the shared limit windows and leases are counted in.
    func redisMilliseconds() async throws -> Int64 { try await redis.milliseconds() }

    struct SpendRow: Sendable {
        var requestID: String
        var spend: Double
        var statusCode: Int
    }

    /// The spend rows of the key whose SHA-256 is `keyHash`, read from PostgreSQL's own table.
    func spendRows(keyHash: String) async throws -> [SpendRow] {
        let rows = try await database.client.query(
            "SELECT request_id, spend, status_code FROM spend_logs WHERE key_hash = \(keyHash)")
        var found: [SpendRow] = []
        for try await (id, spend, status) in rows.decode((String, Double, Int64).self) {
            found.append(SpendRow(requestID: id, spend: spend, statusCode: Int(status)))
        }
        return found
    }

    private func close(schema: String) async {
        let running = children.withLock { $0.indices }
        for index in running { await kill(index) }
        try? await http.shutdown()
        await redis.shutdown()
        _ = try? await database.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
        await database.shutdown()
    }
}

extension RedisClient {
    /// Redis's own clock (`TIME`), in milliseconds: the clock the shared windows and leases run on.
    func milliseconds() async throws -> Int64 {
        let time = try await send(["TIME"]).array ?? []
        let seconds = try #require(time.first?.string.flatMap { Int64($0) } ?? time.first?.int)
        let micros = try #require(time.last?.string.flatMap { Int64($0) } ?? time.last?.int)
        return seconds * 1000 + micros / 1000
    }
}
