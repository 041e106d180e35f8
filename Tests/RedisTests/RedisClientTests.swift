import Foundation
import Testing

@testable import Redis

@Suite(
    .timeLimit(.minutes(3)),
    .enabled(
        if: TestRedis.sharedServerAvailable,
        "set SPANWAY_TEST_REDIS_URL (source /work/notes/services.env or scripts/test-services.sh)"))
struct RedisClientTests {
    private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    @Test func setGetIncr() async throws {
        let prefix = TestRedis.prefix()
        try await TestRedis.withClient(try TestRedis.sharedConfiguration()) { (client: RedisClient) async throws in
            #expect(try await client.send(["SET", prefix + "k", "välue", "EX", "60"]) == .simpleString("OK"))
            #expect(try await client.send(["GET", prefix + "k"]) == self.bulk("välue"))
            #expect(try await client.send(["GET", prefix + "missing"]) == .null)
            #expect(try await client.send(["INCR", prefix + "n"]) == .integer(1))
            #expect(try await client.send(["INCRBY", prefix + "n", "41"]).int == 42)
            #expect(try await client.send(["DEL", prefix + "k", prefix + "n"]) == .integer(2))
        }
    }

    @Test func serverErrorsThrowWithTheServerLine() async throws {
        let prefix = TestRedis.prefix()
        try await TestRedis.withClient(try TestRedis.sharedConfiguration()) { (client: RedisClient) async throws in
            _ = try await client.send(["SET", prefix + "s", "text", "EX", "60"])
            do throws(RedisError) {
                _ = try await client.send(["INCR", prefix + "s"])
                Issue.record("INCR on a string must fail")
            } catch {
                #expect(error.kind == .server)
                #expect(error.message == "ERR value is not an integer or out of range")
                #expect(error.serverErrorCode == "ERR")
            }
            // The connection stays usable after an error reply.
            #expect(try await client.send(["GET", prefix + "s"]) == self.bulk("text"))
        }
    }

    @Test func pipelineKeepsGoingAfterAnErrorReply() async throws {
        let prefix = TestRedis.prefix()
        try await TestRedis.withClient(try TestRedis.sharedConfiguration()) { (client: RedisClient) async throws in
            let replies = try await client.pipeline([
                ["SET", prefix + "k", "v", "EX", "60"],
                ["INCR", prefix + "k"],
                ["GET", prefix + "k"],
            ])
            #expect(
                replies == [.simpleString("OK"), .error("ERR value is not an integer or out of range"), self.bulk("v")]
            )
            #expect(try await client.pipeline([]) == [])
        }
    }

    @Test func concurrentSendsGetTheirOwnReplies() async throws {
        let prefix = TestRedis.prefix()
        var configuration = try TestRedis.sharedConfiguration()
        configuration.maxConnections = 3
        try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
            // ECHO returns what each request sent, so a reply matched to the wrong request shows.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let echoed = try await client.send(["ECHO", "\(prefix)\(index)"])
                        #expect(echoed.string == "\(prefix)\(index)")
                        _ = try await client.send(["INCR", prefix + "count"])
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send(["GET", prefix + "count"]).int == 200)
            #expect(client.connectAttempts <= 3)
            _ = try await client.send(["DEL", prefix + "count"])
        }
    }

    @Test func evalFallsBackToEvalOnNoScript() async throws {
        let prefix = TestRedis.prefix()
        // A source no one has loaded before, so the first EVALSHA must get NOSCRIPT. (No SCRIPT FLUSH:
        // it would drop the scripts of tests running in parallel against the same server.)
        let script = RedisScript("return {KEYS[1], ARGV[1], '\(prefix)'}")
        try await TestRedis.withClient(try TestRedis.sharedConfiguration()) { (client: RedisClient) async throws in
            #expect(try await client.send(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(0)]))
            let expected = RESPValue.array([self.bulk(prefix + "key"), self.bulk("arg"), self.bulk(prefix)])
            #expect(try await client.eval(script, keys: [prefix + "key"], arguments: ["arg"]) == expected)
            // The EVAL fallback cached it under the SHA-1 computed here.
            #expect(try await client.send(["SCRIPT", "EXISTS", script.sha1]) == .array([.integer(1)]))
            #expect(try await client.eval(script, keys: [prefix + "key"], arguments: ["arg"]) == expected)
            // Script errors are server errors, not NOSCRIPT loops.
            let failing = RedisScript("return redis.call('INCR', KEYS[1]) -- \(prefix)")
            _ = try await client.send(["SET", prefix + "s", "text", "EX", "60"])
            do throws(RedisError) {
                _ = try await client.eval(failing, keys: [prefix + "s"], arguments: [])
                Issue.record("the script must fail")
            } catch {
                #expect(error.kind == .server)
                #expect(error.message.contains("ERR"))
            }
        }
    }

    @Test func publishSubscribeRoundTrip() async throws {
        let prefix = TestRedis.prefix()
        let channel = prefix + "channel"
        let client = RedisClient(configuration: try TestRedis.sharedConfiguration(), logger: TestRedis.logger)
        let stream = client.subscribe(to: channel)
        var events = stream.makeAsyncIterator()
        #expect(await events.next() == .subscribed)
        #expect(try await client.publish(channel, "héllo \(prefix)") == 1)
        #expect(try await client.publish(channel, "") == 1)
        #expect(await events.next() == .message(Array("héllo \(prefix)".utf8)))
        #expect(await events.next() == .message([]))
        #expect(try await client.publish(prefix + "other", "x") == 0)
        await client.shutdown()
        #expect(await events.next() == nil)
        do throws(RedisError) {
            _ = try await client.send(["PING"])
            Issue.record("a shut down client must refuse commands")
        } catch {
            #expect(error.kind == .closed)
        }
    }

    @Test func subscriptionResubscribesAfterTheConnectionIsKilled() async throws {
        let prefix = TestRedis.prefix()
        let channel = prefix + "channel"
        let name = "redistests-\(UInt32.random(in: 0...UInt32.max))"
        var configuration = try TestRedis.sharedConfiguration()
        configuration.clientName = name
        try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
            var events = client.subscribe(to: channel).makeAsyncIterator()
            #expect(await events.next() == .subscribed)
            // Kill this client's subscriber connection (found by its name), as a server restart would.
            let list = try await client.send(["CLIENT", "LIST", "TYPE", "pubsub"]).string ?? ""
            let ids = list.split(separator: "\n").filter { $0.contains(" name=\(name) ") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
            }
            #expect(ids.count == 1)
            for id in ids { #expect(try await client.send(["CLIENT", "KILL", "ID", id]) == .integer(1)) }
            #expect(await events.next() == .subscribed)
            #expect(try await client.publish(channel, "after") == 1)
            #expect(await events.next() == .message(Array("after".utf8)))
        }
    }

    @Test func wrongPasswordGivesAClearServerError() async throws {
        var configuration = try TestRedis.sharedConfiguration()
        configuration.password = "not-the-password-9f27"
        try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
            do throws(RedisError) {
                _ = try await client.send(["PING"])
                Issue.record("AUTH against a server without requirepass must fail")
            } catch {
                #expect(error.kind == .server)
                #expect(error.message.hasPrefix("ERR AUTH"))
                #expect(!error.message.contains("not-the-password"))
                #expect(!error.description.contains("not-the-password"))
            }
        }
    }

    @Test func aclUserWithPasswordFromURL() async throws {
        let prefix = TestRedis.prefix()
        let user = "redistests-\(UInt32.random(in: 0...UInt32.max))"
        let password = "p@ss/w:rd-\(UInt32.random(in: 0...UInt32.max))"
        let shared = try TestRedis.sharedConfiguration()
        try await TestRedis.withClient(shared) { (admin: RedisClient) async throws in
            _ = try await admin.send(["ACL", "SETUSER", user, "on", ">" + password, "~\(prefix)*", "+@all"])
            let escaped = password.replacingOccurrences(of: "@", with: "%40").replacingOccurrences(of: "/", with: "%2F")
                .replacingOccurrences(of: ":", with: "%3A")
            var configuration = try RedisConfiguration(url: "redis://\(user):\(escaped)@\(shared.hostAndPort)")
            // The shared server's generous deadline: a busy CI machine answers late, not wrongly.
            configuration.commandTimeout = shared.commandTimeout
            try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
                #expect(try await client.send(["SET", prefix + "k", "1", "EX", "60"]) == .simpleString("OK"))
                #expect(try await client.send(["ACL", "WHOAMI"]) == self.bulk(user))
            }
            var wrong = configuration
            wrong.password = password + "x"
            try await TestRedis.withClient(wrong) { (client: RedisClient) async throws in
                do throws(RedisError) {
                    _ = try await client.send(["PING"])
                    Issue.record("a wrong password must fail")
                } catch {
                    #expect(error.kind == .server)
                    #expect(error.message.hasPrefix("WRONGPASS"))
                    #expect(!error.message.contains(password))
                }
            }
            _ = try await admin.send(["ACL", "DELUSER", user])
        }
    }

    @Test func selectsTheConfiguredDatabase() async throws {
        let prefix = TestRedis.prefix()
        let shared = try TestRedis.sharedConfiguration()
        var other = shared
        other.database = 5
        try await TestRedis.withClient(other) { (client: RedisClient) async throws in
            _ = try await client.send(["SET", prefix + "k", "in-5", "EX", "60"])
            #expect(try await client.send(["GET", prefix + "k"]) == self.bulk("in-5"))
        }
        try await TestRedis.withClient(shared) { (client: RedisClient) async throws in
            #expect(try await client.send(["GET", prefix + "k"]) == .null)
        }
    }

    @Test func closedConnectionFailsQueuedRequestsAndTheNextOneReconnects() async throws {
        var configuration = try TestRedis.sharedConfiguration()
        configuration.maxConnections = 1
        try await TestRedis.withClient(configuration) { (client: RedisClient) async throws in
            #expect(try await client.send(["PING"]) == .simpleString("PONG"))
            // QUIT replies +OK and closes: the PING queued behind it never gets a reply.
            do throws(RedisError) {
                _ = try await client.pipeline([["QUIT"], ["PING"]])
                Issue.record("a request queued on a closing connection must fail")
            } catch {
                #expect(error.kind == .closed)
            }
            #expect(try await client.send(["PING"]) == .simpleString("PONG"))
            #expect(client.connectAttempts == 2)
        }
    }
}
