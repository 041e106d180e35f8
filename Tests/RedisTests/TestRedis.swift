import Foundation
import Logging
import NIOCore
import NIOPosix
import Redis
import Testing

/// Where the tests find Redis. `SPANWAY_TEST_REDIS_URL` names the shared test server; tests that need a
/// server of their own (a password, `CLIENT PAUSE`, which would stall everyone else's tests) start
/// `redis-server` themselves. Without either they are disabled, except under CI, where they must fail.
enum TestRedis {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["SPANWAY_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let isCI = environment["CI"] != nil
    static let sharedServerAvailable = url != nil || isCI
    static let serverBinary: String? = {
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return directories.map { $0 + "/redis-server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static let privateServerAvailable = serverBinary != nil || isCI

    static let logger = Logger(label: "RedisTests")

    /// A key prefix no other test uses.
    static func prefix(_ test: String = #function) -> String {
        "redistests:\(test.prefix { $0 != "(" }):\(UInt64.random(in: 0...UInt64.max)):"
    }

    static func sharedConfiguration() throws -> RedisConfiguration {
        let url = try #require(Self.url, "CI must set SPANWAY_TEST_REDIS_URL (scripts/test-services.sh)")
        var configuration = try RedisConfiguration(url: url)
        // Generous: the whole test suite shares two cores. Tests of the deadline set their own.
        configuration.commandTimeout = .seconds(10)
        return configuration
    }

    static func withClient<T>(
        _ configuration: RedisConfiguration,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        let client = RedisClient(configuration: configuration, logger: Self.logger)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// A port nothing listens on: bound by the OS, read, and closed again.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }
}
