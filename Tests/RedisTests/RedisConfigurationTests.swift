import Redis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func defaults() throws {
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 6379)
        #expect(configuration.database == 0)
        #expect(configuration.username == nil)
        #expect(configuration.password == nil)
        #expect(configuration.connectTimeout == .seconds(2))
        #expect(configuration.commandTimeout == .milliseconds(500))
        #expect(configuration.maxConnections == 4)
    }

    @Test func passwordPortAndDatabase() throws {
        // "%40" is "@", "%3A" is ":", "%2F" is "/", "%25" is "%".
        let configuration = try RedisConfiguration(url: "redis://:p%40ss%3Aw%2Fo%25rd@cache.internal:6380/2")
        #expect(configuration.host == "cache.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
        #expect(configuration.username == nil)
        #expect(configuration.password == "p@ss:w/o%rd")
    }

    @Test func usernameAndPassword() throws {
        let configuration = try RedisConfiguration(url: "REDIS://alice:s3cret@redis:7000/15")
        #expect(configuration.username == "alice")
        #expect(configuration.password == "s3cret")
        #expect(configuration.host == "redis")
        #expect(configuration.port == 7000)
        #expect(configuration.database == 15)
    }

    @Test func ipv6HostAndTrailingSlash() throws {
        let configuration = try RedisConfiguration(url: "redis://[::1]:7001/")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7001)
        #expect(configuration.database == 0)
        #expect(try RedisConfiguration(url: "redis://[::1]").port == 6379)
    }

    @Test(arguments: [
        ("rediss://cache:6380", "TLS"),
        ("unix:///run/redis.sock", "unix"),
        ("redis+unix:///run/redis.sock", "unix"),
        ("http://cache", "scheme"),
        ("cache:6379", "redis://"),
        ("redis://", "host"),
        ("redis://:pw@", "host"),
        ("redis://cache:0", "port"),
        ("redis://cache:70000", "port"),
        ("redis://cache:abc", "port"),
        ("redis://cache/abc", "database"),
        ("redis://cache/-1", "database"),
        ("redis://cache?db=1", "query"),
        ("redis://alice@cache", "password"),
        ("redis://[::1", "IPv6"),
    ])
    func refusals(url: String, mentions: String) {
        #expect {
            _ = try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.kind == .configuration && error.message.contains(mentions)
        }
    }

    @Test func errorsAndDescriptionsNeverShowThePassword() throws {
        for url in [
            "redis://:hunter2secret@cache:notaport", "redis://:hunter2secret%zz@cache", "redis://u:hunter2secret@cache/x",
        ] {
            do {
                _ = try RedisConfiguration(url: url)
                Issue.record("\(url) should be refused")
            } catch {
                #expect(!error.message.contains("hunter2"))
                #expect(!error.description.contains("hunter2"))
            }
        }
        let configuration = try RedisConfiguration(url: "redis://alice:hunter2secret@cache:6380/3")
        #expect(!configuration.description.contains("hunter2"))
        #expect(configuration.description == "redis://alice@cache:6380/3")
    }
}
