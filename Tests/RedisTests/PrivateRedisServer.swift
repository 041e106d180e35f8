import Foundation
import Redis
import Testing

/// A `redis-server` process of the test's own, for what must not touch the shared server.
final class PrivateRedisServer {
    let port: Int
    let password: String
    private let process: Process

    private init(port: Int, password: String, process: Process) {
        self.port = port
        self.password = password
        self.process = process
    }

    /// Starts the server with `requirepass` and returns once it logs that it accepts connections.
    static func start(password: String) async throws -> PrivateRedisServer {
        let binary = try #require(TestRedis.serverBinary, "CI needs redis-server on PATH")
        let port = try await TestRedis.closedPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--requirepass", password, "--loglevel", "notice",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let server = PrivateRedisServer(port: port, password: password, process: process)
        // Read the log on a thread of its own (blocking reads must not hold the few cooperative threads),
        // until the server is ready (no polling, no sleeps); then keep draining it until the server exits.
        let handle = output.fileHandleForReading
        let ready: (Bool, String) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var log = ""
                var resumed = false
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty {
                        if !resumed { continuation.resume(returning: (false, log)) }
                        return
                    }
                    guard !resumed else { continue }
                    log += String(decoding: chunk, as: UTF8.self)
                    if log.contains("Ready to accept connections") {
                        resumed = true
                        continuation.resume(returning: (true, log))
                    }
                }
            }
        }
        guard ready.0 else {
            server.stop()
            Issue.record("redis-server did not start: \(ready.1)")
            throw RedisError(kind: .connection, message: "redis-server did not start")
        }
        return server
    }

    var configuration: RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: self.port, password: self.password)
        configuration.commandTimeout = .seconds(10)
        return configuration
    }

    func stop() {
        // SIGKILL: the server inherits the test runner's blocked signal mask, so it never sees SIGTERM.
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    static func with<T>(password: String, _ body: (PrivateRedisServer) async throws -> T) async throws -> T {
        let server = try await Self.start(password: password)
        defer { server.stop() }
        return try await body(server)
    }
}
