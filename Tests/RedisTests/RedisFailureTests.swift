import Testing

@testable import Redis

/// Deadlines, a frozen server, a down server, and password-protected servers. The frozen and password
/// cases run on a `redis-server` of their own: `CLIENT PAUSE` on the shared server would stall other tests.
@Suite(.timeLimit(.minutes(3)))
struct RedisFailureTests {
    @Test func downServerFailsFastWhileTheBreakerIsOpen() async throws {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: try await TestRedis.closedPort())
        // Far longer than the test, so the second call is inside the backoff window whatever the machine load.
        configuration.minimumReconnectDelay = .seconds(600)
        configuration.maximumReconnectDelay = .seconds(600)
        try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
            for _ in 0..<3 {
                do throws(RedisError) {
                    _ = try await client.send(["PING"])
                    Issue.record("nothing listens on the port")
                } catch {
                    #expect(error.kind == .connection)
                }
            }
            // Only the first request tried to connect; the others failed without waiting on the network.
            #expect(client.connectAttempts == 1)
            do throws(RedisError) {
                _ = try await client.pipeline([["PING"]])
                Issue.record("nothing listens on the port")
            } catch {
                #expect(error.kind == .connection)
                #expect(error.message.contains("unavailable"))
            }
            #expect(client.connectAttempts == 1)
        }
    }

    @Test(.enabled(if: TestRedis.privateServerAvailable, "needs redis-server on PATH"))
    func frozenServerTimesOutThenRecovers() async throws {
        try await PrivateRedisServer.with(password: "pause-test") { (server: PrivateRedisServer) async throws in
            var configuration = server.configuration
            // Deadlines well apart from the pause (1 s against 4 s), so a machine busy with other work
            // cannot turn a command that should answer into a timeout, or the reverse.
            configuration.commandTimeout = .seconds(1)
            configuration.maxConnections = 1
            var adminConfiguration = server.configuration
            adminConfiguration.commandTimeout = .seconds(30)
            try await TestRedis.withClient(adminConfiguration) { (admin: RedisClient) async throws in
                try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
                    #expect(try await client.send(["PING"]) == .simpleString("PONG"))
                    // Once CLIENT PAUSE has replied, the server holds every command for 4 s.
                    #expect(try await admin.send(["CLIENT", "PAUSE", "4000", "ALL"]) == .simpleString("OK"))
                    async let first = Self.errorKind { try await client.send(["GET", "redistests:frozen"]) }
                    async let second = Self.errorKind { try await client.send(["PING"]) }
                    // Both requests queued on the connection fail when the oldest passes its deadline.
                    #expect(await first == .timeout)
                    #expect(await second == .timeout)
                    // The admin's PING is held too, so it returns once the pause has ended.
                    #expect(try await admin.send(["PING"]) == .simpleString("PONG"))
                    #expect(try await client.send(["PING"]) == .simpleString("PONG"))
                    #expect(client.connectAttempts == 2)
                }
            }
        }
    }

    @Test(.enabled(if: TestRedis.privateServerAvailable, "needs redis-server on PATH"))
    func passwordProtectedServer() async throws {
        try await PrivateRedisServer.with(password: "s3cret-pw") { (server: PrivateRedisServer) async throws in
            try await TestRedis.withClient(server.configuration) { (client: RedisClient) async throws in
                #expect(try await client.send(["PING"]) == .simpleString("PONG"))
            }
            var none = server.configuration
            none.password = nil
            try await TestRedis.withClient(none) { (client: RedisClient) async throws in
                await #expect(Self.serverError { try await client.send(["PING"]) } == "NOAUTH Authentication required.")
            }
            var wrong = server.configuration
            wrong.password = "s3cret-pw-wrong"
            try await TestRedis.withClient(wrong) { (client: RedisClient) async throws in
                let line = await Self.serverError { try await client.send(["PING"]) }
                #expect(line?.hasPrefix("WRONGPASS") == true)
                #expect(line?.contains("s3cret") == false)
            }
        }
    }

    private static func errorKind(_ body: () async throws -> RESPValue) async -> RedisError.Kind? {
        do {
            _ = try await body()
            return nil
        } catch {
            return (error as? RedisError)?.kind
        }
    }

    private static func serverError(_ body: () async throws -> RESPValue) async -> String? {
        do {
            _ = try await body()
            return nil
        } catch let error as RedisError where error.kind == .server {
            return error.message
        } catch {
            return "\(error)"
        }
    }
}
