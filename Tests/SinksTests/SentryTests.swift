import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import Synchronization
import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Fixtures

private let serverStart: UInt64 = 1_795_578_148_771_715_000
private let keyHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/// A chat request that failed after two attempts with a rate limit from the provider.
private func failedRequest(route: String? = "/v1/chat/completions") throws -> FinishedSpan {
    let traceID = try #require(TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736"))
    let serverID = try #require(SpanID(hex: "00f067aa0ba902b7"))
    var serverAttributes = Attributes()
    serverAttributes[AttributeName.httpRequestMethod] = .string("POST")
    if let route { serverAttributes[AttributeName.httpRoute] = .string(route) }
    serverAttributes[AttributeName.httpResponseStatusCode] = .int(429)
    serverAttributes[AttributeName.errorType] = .string("rate_limit_exceeded")
    var attemptAttributes = Attributes()
    attemptAttributes[AttributeName.operationName] = .string("chat")
    attemptAttributes[AttributeName.providerName] = .string("openai")
    attemptAttributes[AttributeName.errorType] = .string("rate_limit_exceeded")
    var request = FinishedSpanBuilder(
        requestID: "req_00f067aa0ba902b70e0e4736", traceID: traceID, spanID: serverID, start: serverStart,
        end: serverStart + 1_500_000_000, attributes: serverAttributes, status: .error(message: "Rate limit reached"))
    for n in UInt64(1)...2 {
        request = request.attempt(
            name: "chat gpt-4o", start: serverStart + n * 100_000_000, end: serverStart + n * 600_000_000,
            attributes: attemptAttributes, status: .error(message: "Rate limit reached"))
    }
    var summary = request.summary
    summary.requestModel = "gpt-4o"
    summary.modelGroup = "gpt-4o"
    summary.deploymentID = "openai-east"
    summary.provider = "openai"
    summary.caller = Caller(
        keyHash: keyHash, keyAlias: "ci-key", teamID: "team-7", teamAlias: "Search", userID: "u-1", orgID: "org-1")
    summary.statusCode = 429
    summary.errorType = "rate_limit_exceeded"
    summary.stream = true
    summary.attempts = 2
    summary.durationSeconds = 1.5
    summary.overheadSeconds = 0.01
    summary.endUser = "end-user-9"
    summary.errorMessage = "Rate limit reached for gpt-4o.\nTry again in 20s."
    summary.usage = Usage(inputTokens: 12, outputTokens: 0)
    request.summary = summary
    return request.build()
}

private func succeededRequest() throws -> FinishedSpan {
    try failedRequest().with { summary in
        summary.statusCode = 200
        summary.errorType = nil
        summary.errorMessage = nil
    }
}

private let dsnText = "https://pubkey123@o42.ingest.us.sentry.io/4505678"

/// Splits an envelope into its `\n`-terminated lines; the last element is what follows the final `\n`.
private func lines(_ bytes: [UInt8]) -> [[UInt8]] {
    bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
}

// MARK: - DSN

@Suite struct SentryDSNTests {
    @Test func saasDSNWithOrgID() throws {
        let dsn = try #require(SentryDSN(dsnText))
        #expect(dsn.scheme == "https")
        #expect(dsn.publicKey == "pubkey123")
        #expect(dsn.secretKey == nil)
        #expect(dsn.host == "o42.ingest.us.sentry.io")
        #expect(dsn.port == nil)
        #expect(dsn.pathPrefix == "")
        #expect(dsn.projectID == 4_505_678)
        #expect(dsn.orgID == 42)
        #expect(dsn.envelopeURL == "https://o42.ingest.us.sentry.io/api/4505678/envelope/")
        #expect(
            dsn.authHeader(client: "spanway/0.1.0")
                == "Sentry sentry_key=pubkey123, sentry_version=7, sentry_client=spanway/0.1.0")
    }

    @Test func selfHostedWithSecretPortAndPathPrefix() throws {
        let dsn = try #require(SentryDSN("http://pub:sec@sentry.internal:9000/tools/sentry/17/"))
        #expect(dsn.publicKey == "pub")
        #expect(dsn.secretKey == "sec")
        #expect(dsn.host == "sentry.internal")
        #expect(dsn.port == 9000)
        #expect(dsn.pathPrefix == "/tools/sentry")
        #expect(dsn.projectID == 17)
        #expect(dsn.orgID == nil)
        #expect(dsn.envelopeURL == "http://sentry.internal:9000/tools/sentry/api/17/envelope/")
        #expect(
            dsn.authHeader(client: "spanway/1")
                == "Sentry sentry_key=pub, sentry_version=7, sentry_client=spanway/1, sentry_secret=sec")
    }

    @Test func surroundingWhitespaceIsIgnored() throws {
        #expect(try #require(SentryDSN("  \(dsnText)\n")).projectID == 4_505_678)
    }

    @Test func ipv6HostAndQueryIgnored() throws {
        let dsn = try #require(SentryDSN("https://k@[::1]:8443/5?timeout=1"))
        #expect(dsn.host == "[::1]" && dsn.port == 8443 && dsn.projectID == 5)
        #expect(dsn.envelopeURL == "https://[::1]:8443/api/5/envelope/")
    }

    @Test func orgIDOnlyFromAnOPrefixOfDigits() throws {
        #expect(try #require(SentryDSN("https://k@sentry.io/1")).orgID == nil)
        #expect(try #require(SentryDSN("https://k@o.ingest.sentry.io/1")).orgID == nil)
        #expect(try #require(SentryDSN("https://k@o4x.ingest.sentry.io/1")).orgID == nil)
        #expect(try #require(SentryDSN("https://k@o7.ingest.de.sentry.io/1")).orgID == 7)
    }

    @Test(arguments: [
        "https://pub@o42.ingest.sentry.io/abc",  // project id not an integer
        "https://pub@o42.ingest.sentry.io/4505678x",
        "https://pub@o42.ingest.sentry.io/+5",
        "https://pub@o42.ingest.sentry.io/",  // no project id
        "https://o42.ingest.sentry.io/42",  // no key
        "https://:secret@o42.ingest.sentry.io/42",  // empty public key
        "https://pub@/42",  // no host
        "https://pub@host:99999/42",  // port out of range
        "https://pub@host:http/42",
        "ftp://pub@host/42",  // not HTTP
        "pub@host/42",
        "",
    ])
    func rejectsBadDSNs(_ text: String) {
        #expect(SentryDSN(text) == nil)
    }

    @Test func descriptionNeverShowsTheKeys() throws {
        let dsn = try #require(SentryDSN("http://pub:sec@sentry.internal:9000/17"))
        #expect(!"\(dsn)".contains("pub") && !"\(dsn)".contains("sec"))
    }
}

// MARK: - Envelope

@Suite struct SentryEnvelopeTests {
    let sentAt: UInt64 = 1_795_578_150_000_000_000
    let eventID = "a081f1e4c2b94f0c9d3e5b6a7c8d9e0f"

    func envelope(_ request: FinishedSpan, release: String? = "spanway@0.1.0") throws -> [UInt8] {
        let dsn = try #require(SentryDSN(dsnText))
        return try #require(
            SentryEnvelope.encode(
                request, dsn: dsn, environment: "prod", release: release, sdkVersion: "0.1.0", sentAtNanos: sentAt,
                eventID: eventID))
    }

    @Test func framingIsThreeNewlineTerminatedLinesWithTheExactLength() throws {
        let bytes = try envelope(try failedRequest())
        let parts = lines(bytes)
        #expect(parts.count == 4)
        #expect(parts[3].isEmpty, "the payload line is newline-terminated")
        #expect(!bytes.contains(UInt8(ascii: "\r")))
        let itemHeader = try JSONParser.parse(parts[1])
        let length = parts[2].count
        #expect(itemHeader == .object(["type": "event", "content_type": "application/json", "length": .int(length)]))
        #expect(parts[1] == Array(#"{"type":"event","content_type":"application/json","length":\#(length)}"#.utf8))
        // The message has a newline, which the writer escapes: the payload stays one line.
        #expect(try JSONParser.parse(parts[2])["exception"] != nil)
    }

    @Test func envelopeHeaderCarriesSentAtSDKAndTheDynamicSamplingContext() throws {
        let request = try failedRequest()
        let header = try JSONParser.parse(lines(try envelope(request))[0])
        #expect(header["event_id"]?.stringValue == eventID)
        #expect(header["sent_at"]?.stringValue == "2026-11-25T03:42:30.000Z")
        #expect(header["sdk"] == .object(["name": "spanway", "version": "0.1.0"]))
        let trace = try #require(header["trace"])
        #expect(trace["trace_id"]?.stringValue == request.server.traceID.hex)
        #expect(trace["public_key"]?.stringValue == "pubkey123")
        #expect(trace["environment"]?.stringValue == "prod")
        #expect(trace["release"]?.stringValue == "spanway@0.1.0")
        #expect(trace["org_id"]?.stringValue == "42")
        #expect(header["dsn"] == nil, "auth travels in X-Sentry-Auth, not in the body")
    }

    @Test func dynamicSamplingContextOmitsWhatIsUnknown() throws {
        let dsn = try #require(SentryDSN("https://k@sentry.example.com/3"))
        let bytes = try #require(
            SentryEnvelope.encode(
                try failedRequest(), dsn: dsn, environment: "staging", release: nil, sdkVersion: "2",
                sentAtNanos: sentAt, eventID: eventID))
        let header = try JSONParser.parse(lines(bytes)[0])
        #expect(header["trace"]?.objectValue?.keys == ["trace_id", "public_key", "environment"])
        let event = try JSONParser.parse(lines(bytes)[2])
        #expect(event["release"] == nil && event["environment"]?.stringValue == "staging")
    }

    @Test func eventFieldByField() throws {
        let request = try failedRequest()
        let event = try JSONParser.parse(lines(try envelope(request))[2])
        #expect(event["event_id"]?.stringValue == eventID)
        #expect(event["timestamp"]?.stringValue == Timestamp.iso8601(nanos: request.server.endNanos))
        #expect(event["timestamp"]?.stringValue == "2026-11-25T03:42:30.271Z")
        #expect(event["platform"]?.stringValue == "other")
        #expect(event["level"]?.stringValue == "error")
        #expect(event["logger"]?.stringValue == "spanway")
        #expect(event["transaction"]?.stringValue == "/v1/chat/completions")
        #expect(event["environment"]?.stringValue == "prod")
        #expect(event["release"]?.stringValue == "spanway@0.1.0")
        #expect(event["server_name"] == nil)
        #expect(event["user"] == .object(["id": "end-user-9"]))
        #expect(
            event["exception"]
                == .object([
                    "values": .array([
                        .object([
                            "type": "rate_limit_exceeded",
                            "value": "Rate limit reached for gpt-4o.\nTry again in 20s.",
                            "mechanism": .object(["type": "auto.http.spanway", "handled": true]),
                        ])
                    ])
                ]))
        #expect(event["fingerprint"] == .array(["{{ default }}", "gpt-4o", "rate_limit_exceeded"]))
        let extra = try #require(event["extra"])
        #expect(extra["request_id"]?.stringValue == "req_00f067aa0ba902b70e0e4736")
        #expect(extra["attempts"]?.intValue == 2)
        #expect(extra["duration_seconds"]?.doubleValue == 1.5)
        #expect(extra["input_tokens"]?.intValue == 12)
        #expect(extra["output_tokens"]?.intValue == 0)
        #expect(extra["cost_usd"] == nil, "no cost is known for this failure")
    }

    @Test func tagsAreStringsOfPresentValuesWithTheAliasNotTheHash() throws {
        let event = try JSONParser.parse(lines(try envelope(try failedRequest()))[2])
        let tags = try #require(event["tags"]?.objectValue)
        #expect(
            tags
                == [
                    "model": "gpt-4o", "model_group": "gpt-4o", "provider": "openai", "deployment": "openai-east",
                    "team_id": "team-7", "team_alias": "Search", "api_key_alias": "ci-key", "status_code": "429",
                    "error_type": "rate_limit_exceeded", "stream": "true",
                ])
        #expect(!tags.members.contains { $0.value.stringValue == keyHash })
    }

    @Test func tagsAreTruncatedAndOneLineAndAbsentValuesLeftOut() throws {
        let request = FinishedSpanBuilder(try failedRequest())
            .attempts([])
            .summary { summary in
                summary.requestModel = String(repeating: "m", count: 300)
                summary.caller = Caller(keyAlias: "two\nlines")
                summary.deploymentID = nil
                summary.provider = nil
            }
        let event = try #require(SentryEnvelope.event(request.build(), environment: "p", release: nil, eventID: eventID))
        let tags = try #require(event["tags"]?.objectValue)
        #expect(tags["model"]?.stringValue?.count == 199)
        #expect(tags["api_key_alias"]?.stringValue == "two lines")
        #expect(tags["deployment"] == nil && tags["provider"] == nil && tags["team_id"] == nil)
        #expect(tags.members.allSatisfy { ($0.value.stringValue?.count ?? 200) < 200 })
    }

    @Test func traceContextIsTheServerSpan() throws {
        let request = try failedRequest()
        let event = try JSONParser.parse(lines(try envelope(request))[2])
        #expect(
            event["contexts"]
                == .object([
                    "trace": .object([
                        "type": "trace", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
                        "op": "http.server", "status": "resource_exhausted",
                    ])
                ]))
    }

    @Test func fallbacksWithoutRouteUserOrGroup() throws {
        let request = try failedRequest(route: nil).with { summary in
            summary.endUser = nil
            summary.modelGroup = nil
            summary.errorType = nil
            summary.errorMessage = nil
            summary.statusCode = 502
            summary.costUSD = 0.0042
        }
        let event = try #require(SentryEnvelope.event(request, environment: "p", release: nil, eventID: eventID))
        #expect(event["transaction"]?.stringValue == "chat")
        #expect(event["user"] == .object(["id": "u-1"]), "the caller's user when no end user was named")
        #expect(event["fingerprint"] == .array(["{{ default }}", "http_502"]))
        #expect(event["exception"]?["values"]?.arrayValue?.first?["value"]?.stringValue == "HTTP 502")
        #expect(event["contexts"]?["trace"]?["status"]?.stringValue == "internal_error")
        #expect(event["extra"]?["cost_usd"]?.doubleValue == 0.0042)
    }

    @Test func succeededRequestsHaveNoEnvelope() throws {
        let dsn = try #require(SentryDSN(dsnText))
        #expect(
            SentryEnvelope.encode(
                try succeededRequest(), dsn: dsn, environment: "p", release: nil, sdkVersion: "1", sentAtNanos: sentAt,
                eventID: eventID) == nil)
    }

    @Test func spanStatusFromHTTPStatus() {
        let expected: [(Int, String)] = [
            (200, "ok"), (400, "invalid_argument"), (401, "unauthenticated"), (403, "permission_denied"),
            (404, "not_found"), (408, "deadline_exceeded"), (413, "failed_precondition"),
            (422, "invalid_argument"), (429, "resource_exhausted"), (499, "cancelled"), (500, "internal_error"),
            (501, "unimplemented"), (502, "internal_error"), (503, "unavailable"), (504, "deadline_exceeded"),
            (0, "unknown_error"),
        ]
        for (status, name) in expected {
            #expect(SentryEnvelope.spanStatus(httpStatus: status) == name, "status \(status)")
        }
    }

    @Test func eventIDsAreVersion4UUIDsInLowerHex() {
        let ids = (0..<50).map { _ in SentryEnvelope.newEventID() }
        #expect(Set(ids).count == 50)
        for id in ids {
            let chars = Array(id)
            #expect(chars.count == 32)
            #expect(chars.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(chars[12] == "4")
            #expect("89ab".contains(chars[16]))
        }
    }
}

// MARK: - Timestamps

@Suite struct TimestampTests {
    @Test func rfc3339WithMillisecondsInUTC() {
        #expect(Timestamp.iso8601(nanos: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(nanos: serverStart) == "2026-11-25T03:42:28.771Z")
        #expect(
            Timestamp.iso8601(nanos: 1_709_251_199_999_999_999) == "2024-02-29T23:59:59.999Z", "truncated, not rounded")
        #expect(Timestamp.iso8601(nanos: 951_868_800_000_000_000) == "2000-03-01T00:00:00.000Z")
        #expect(Timestamp.iso8601(nanos: 4_102_444_800_005_000_000) == "2100-01-01T00:00:00.005Z")
    }
}

// MARK: - Rate limits

@Suite struct SentryRateLimitsTests {
    @Test func theLongestEntryThatNamesErrorsApplies() {
        let header = "60:error;transaction:organization, 2700:default:organization"
        #expect(SentryRateLimits.wait(header, category: "error") == .seconds(60))
        let several = "10:error:key, 120:error;attachment:organization:quota_exceeded"
        #expect(SentryRateLimits.wait(several, category: "error") == .seconds(120))
        #expect(SentryRateLimits.wait("10:transaction:key", category: "error") == nil)
        #expect(SentryRateLimits.wait("10:transaction:key", category: "transaction") == .seconds(10))
    }

    @Test func anEmptyCategoryListMeansEveryCategory() {
        #expect(SentryRateLimits.wait("30::organization", category: "error") == .seconds(30))
        #expect(SentryRateLimits.wait("5:transaction:key,30::organization", category: "error") == .seconds(30))
    }

    @Test func malformedEntriesAreSkippedAndExtraFieldsIgnored() {
        #expect(SentryRateLimits.wait("soon:error:key, 5:error:key", category: "error") == .seconds(5))
        #expect(SentryRateLimits.wait("7", category: "error") == nil)
        #expect(SentryRateLimits.wait("2:metric_bucket:organization:quota_exceeded:custom", category: "error") == nil)
        #expect(SentryRateLimits.wait(" 3:error:key:quota_exceeded ", category: "error") == .seconds(3))
        #expect(SentryRateLimits.wait("1.5:error:key", category: "error") == .milliseconds(1500))
    }

    @Test func answersWithAndWithoutTheHeader() {
        func headers(_ pairs: [(String, String)]) -> HTTPHeaders { HTTPHeaders(pairs) }
        #expect(SentryRateLimits.errorWait(status: 429, headers: headers([])) == .seconds(60))
        #expect(SentryRateLimits.errorWait(status: 429, headers: headers([("Retry-After", "7")])) == .seconds(7))
        #expect(SentryRateLimits.errorWait(status: 200, headers: headers([])) == nil)
        #expect(SentryRateLimits.errorWait(status: 503, headers: headers([("Retry-After", "7")])) == nil)
        #expect(
            SentryRateLimits.errorWait(status: 200, headers: headers([("X-Sentry-Rate-Limits", "90:error:key")]))
                == .seconds(90), "limits arrive on successes too")
        #expect(
            SentryRateLimits.errorWait(
                status: 429, headers: headers([("X-Sentry-Rate-Limits", "90:transaction:key"), ("Retry-After", "7")]))
                == nil, "the detailed header wins over Retry-After, and it limits transactions only")
    }
}

// MARK: - Exporter against a local server

@Suite(.serialized) struct SentryExporterTests {
    let logger = Logger(label: "test")

    func exporter(
        port: Int, backoff: Backoff = Backoff(maxRetries: 0), timeout: Duration = .seconds(5)
    ) throws -> SentryExporter {
        let dsn = try #require(SentryDSN("http://pub@127.0.0.1:\(port)/42"))
        return SentryExporter(
            dsn: dsn, environment: "test", release: "spanway@9.9.9", sdkVersion: "9.9.9", backoff: backoff,
            timeout: timeout, logger: logger)
    }

    @Test func postsOneEnvelopePerFailureAndSkipsSuccesses() async throws {
        let server = try RecordingHTTPServer(responses: [.ok])
        defer { server.stop() }
        let sentry = try exporter(port: server.port)
        let delivered = await sentry.deliver([try failedRequest(), try succeededRequest(), try failedRequest()])
        #expect(delivered == 3)
        let requests = server.requests
        #expect(requests.count == 2)
        let first = try #require(requests.first)
        #expect(first.requestLine == "POST /api/42/envelope/ HTTP/1.1")
        #expect(first.header("content-type") == "application/x-sentry-envelope")
        #expect(
            first.header("x-sentry-auth") == "Sentry sentry_key=pub, sentry_version=7, sentry_client=spanway/9.9.9")
        let parts = lines(first.body)
        #expect(parts.count == 4)
        #expect(try JSONParser.parse(parts[2])["release"]?.stringValue == "spanway@9.9.9")
        #expect(!sentry.isRateLimited)
    }

    @Test func aRateLimitOnASuccessDropsLaterEventsWithoutSending() async throws {
        let limited = RecordingHTTPServer.Response.status(200, headers: ["X-Sentry-Rate-Limits": "60:error:key"])
        let server = try RecordingHTTPServer(responses: [limited])
        defer { server.stop() }
        let sentry = try exporter(port: server.port)
        #expect(await sentry.deliver([try failedRequest()]) == 1)
        #expect(sentry.isRateLimited)
        #expect(await sentry.deliver([try failedRequest(), try succeededRequest()]) == 1)
        #expect(server.requests.count == 1)
    }

    @Test func aRateLimited429IsDroppedAtOnceNotRetried() async throws {
        let limited = RecordingHTTPServer.Response.status(429, headers: ["X-Sentry-Rate-Limits": "30::organization"])
        let server = try RecordingHTTPServer(responses: [limited])
        defer { server.stop() }
        let sentry = try exporter(port: server.port, backoff: Backoff(initial: .seconds(20), maxRetries: 3))
        let batch = [try failedRequest()]
        let elapsed = await ContinuousClock().measure {
            #expect(await sentry.deliver(batch) == 0)
        }
        #expect(elapsed < .seconds(5), "Sentry's SDKs drop a rate-limited event; waiting 20-30 s to retry would not")
        #expect(server.requests.count == 1)
        #expect(sentry.isRateLimited)
        #expect(sentry.failedAttempts >= 1)
    }

    @Test func tooLargeIsDroppedWithoutRetry() async throws {
        let server = try RecordingHTTPServer(responses: [.status(413)])
        defer { server.stop() }
        let sentry = try exporter(port: server.port, backoff: Backoff(initial: .milliseconds(10), maxRetries: 3))
        #expect(await sentry.deliver([try failedRequest()]) == 0)
        #expect(server.requests.count == 1)
        #expect(!sentry.isRateLimited)
    }

    @Test func anUnreachableDestinationCountsAsNotDelivered() async throws {
        // The HTTP client keeps retrying a refused connection until the request's deadline.
        let sentry = try exporter(port: RecordingHTTPServer.closedPort(), timeout: .milliseconds(300))
        #expect(await sentry.deliver([try failedRequest(), try succeededRequest()]) == 1)
        #expect(sentry.failedAttempts == 1)
    }
}

// MARK: - A minimal HTTP/1.1 server for exporter tests

/// Answers every request on 127.0.0.1 with canned responses and records what it got. Written on
/// plain sockets because the test target depends on no server library; one connection at a time
/// and `Connection: close` keep it simple.
final class RecordingHTTPServer: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]

        static let ok = Response(status: 200, headers: [:])
        static func status(_ status: Int, headers: [String: String] = [:]) -> Response {
            Response(status: status, headers: headers)
        }
    }

    struct Request: Sendable {
        var requestLine: String
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    let port: Int
    private let listener: Int32
    /// Responses in order; the last one repeats.
    private let responses: [Response]
    private let recorded = Mutex<[Request]>([])

    var requests: [Request] { recorded.withLock { $0 } }

    init(responses: [Response]) throws {
        self.responses = responses
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.socket }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw ServerError.socket
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    enum ServerError: Error { case socket }

    /// A port nothing listens on: bound, then closed.
    static func closedPort() throws -> Int {
        let server = try RecordingHTTPServer(responses: [.ok])
        server.stop()
        return server.port
    }

    /// Wakes the accept loop, which closes the socket itself: closing it here could let a new
    /// server reuse the descriptor while this loop still accepts on it, and take that server's calls.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ connection: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = recv(connection, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer += chunk[0..<n]
            headerEnd = buffer.firstRange(of: terminator)?.upperBound
        }
        guard let headerEnd else { return }
        let head = String(decoding: buffer[..<(headerEnd - 4)], as: UTF8.self).components(separatedBy: "\r\n")
        let headers = head.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        while buffer.count - headerEnd < length {
            let n = recv(connection, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer += chunk[0..<n]
        }
        let request = Request(
            requestLine: head.first ?? "", headers: headers, body: Array(buffer[headerEnd..<(headerEnd + length)]))
        let index = recorded.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
        let response = responses[min(index, responses.count - 1)]
        var text = "HTTP/1.1 \(response.status) Status\r\ncontent-length: 0\r\nconnection: close\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        // MSG_NOSIGNAL: a client that already hung up must not kill the test process with SIGPIPE.
        _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
