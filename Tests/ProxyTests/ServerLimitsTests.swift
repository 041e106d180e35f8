import Telemetry
import Testing

@testable import Proxy

@Suite struct ServerLimitsTests {
    let loader = ConfigLoader(environment: [:], knownProviders: ["mock"])

    @Test func defaultsAreDocumented() {
        // README "Security model": 4096 connections; 10 s for a head, 60 s for a body, 75 s idle;
        // streams at most an hour, a stalled write at most 60 s.
        let limits = ServerLimits()
        #expect(limits.maxConnections == 4096)
        #expect(limits.requestHeaderTimeout == .seconds(10) && limits.requestBodyTimeout == .seconds(60))
        #expect(limits.idleTimeout == .seconds(75))
        #expect(limits.maxStreamDuration == .seconds(3600) && limits.streamWriteTimeout == .seconds(60))
    }

    @Test func readsEverySetting() throws {
        let config = try loader.load(
            yaml: """
                spanway_settings:
                  max_connections: 100
                  request_header_timeout: 2.5
                  request_body_timeout: 30
                  idle_timeout: 5
                  max_stream_duration: 600
                  stream_write_timeout: 0.25
                """)
        let limits = config.serverLimits
        #expect(limits.maxConnections == 100)
        #expect(limits.requestHeaderTimeout == .milliseconds(2500) && limits.requestBodyTimeout == .seconds(30))
        #expect(limits.idleTimeout == .seconds(5) && limits.maxStreamDuration == .seconds(600))
        #expect(limits.streamWriteTimeout == .milliseconds(250))
    }

    @Test func refusesOutOfRangeValuesNamingTheirPath() {
        let (_, issues) = loader.check(
            yaml: """
                spanway_settings:
                  max_connections: 0
                  request_header_timeout: -1
                  idle_timeout: 1e300
                  max_stream_duration: .nan
                  stream_write_timeout: "soon"
                """)
        let errors = issues.filter { $0.severity == .error }.map(\.path)
        for path in [
            "spanway_settings.max_connections", "spanway_settings.request_header_timeout", "spanway_settings.idle_timeout",
            "spanway_settings.max_stream_duration", "spanway_settings.stream_write_timeout",
        ] {
            #expect(errors.contains(path), "\(path)")
        }
    }
}

@Suite struct ContentRedactorTests {
    @Test func aSecretAcrossTheCutIsStillRedacted() throws {
        let secret = "provider-secret-0123456789"
        let text = String(repeating: "a ", count: ContentRedactor.maxStringBytes / 2 - 5) + secret + " tail"
        let redacted = ContentRedactor(secrets: [secret], redactEmails: false).redact(.string(text))
        let clean = try #require(redacted.stringValue)
        #expect(!clean.contains("provider-secret") && !clean.contains("provider-"))
        #expect(clean.hasSuffix("…[truncated]"))
        #expect(clean.utf8.count <= ContentRedactor.maxStringBytes + "…[truncated]".utf8.count)
    }
}
