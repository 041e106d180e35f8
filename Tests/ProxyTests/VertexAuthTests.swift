import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Telemetry
import Testing
import _CryptoExtras

@testable import Proxy

/// A token endpoint in memory: answers every request with one canned response and records what it got.
final class FakeTokenEndpoint: Transport {
    struct Answer: Sendable {
        var status: Int
        var body: String
    }

    private let state: Mutex<(answer: Answer, requests: [UpstreamRequest])>
    private let delay: Duration

    init(_ answer: Answer, delay: Duration = .zero) {
        self.state = Mutex((answer, []))
        self.delay = delay
    }

    var requests: [UpstreamRequest] { state.withLock { $0.requests } }

    func answer(with answer: Answer) {
        state.withLock { $0.answer = answer }
    }

    func send(_ request: UpstreamRequest, timeout: Duration) async throws -> UpstreamResponse {
        let answer = state.withLock { state in
            state.requests.append(request)
            return state.answer
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        let body = ByteBuffer(string: answer.body)
        return UpstreamResponse(
            status: answer.status, headers: ["content-type": "application/json"],
            body: AsyncThrowingStream { continuation in
                continuation.yield(body)
                continuation.finish()
            })
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let seconds = Mutex(1_800_000_000.0)
    var now: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
    func advance(by interval: TimeInterval) { seconds.withLock { $0 += interval } }
}

@Suite struct VertexAuthTests {
    static let tokenURI = "https://oauth2.googleapis.com/token"
    let key: _RSA.Signing.PrivateKey
    let credentials: String

    init() throws {
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let account: JSONObject = [
            "type": "service_account", "project_id": "sa-project", "private_key_id": "kid-123",
            "private_key": .string(key.pkcs8PEMRepresentation), "client_email": "gateway@sa-project.iam.gserviceaccount.com",
            "token_uri": .string(Self.tokenURI),
        ]
        credentials = JSONValue.object(account).encodedString()
    }

    static let granted = FakeTokenEndpoint.Answer(
        status: 200, body: #"{"access_token":"ya29.test-token","expires_in":3599,"token_type":"Bearer"}"#)

    static func base64URLDecode(_ text: Substring) throws -> [UInt8] {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Array(try #require(Data(base64Encoded: base64)))
    }

    /// The assertion verifies with the public key, and its header and claims are RFC 7523's.
    @Test func assertionIsASignedRS256JWT() throws {
        let account = try ServiceAccount.load(credentials)
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        let assertion = try ServiceAccountJWT.assertion(for: account, issuedAt: issued)
        let segments = assertion.split(separator: ".", omittingEmptySubsequences: false)
        try #require(segments.count == 3)
        #expect(!assertion.contains("=") && !assertion.contains("+") && !assertion.contains("/"))
        let header = try JSONParser.parse(try Self.base64URLDecode(segments[0]))
        #expect(header == .object(["alg": "RS256", "typ": "JWT", "kid": "kid-123"]))
        let claims = try JSONParser.parse(try Self.base64URLDecode(segments[1]))
        #expect(claims["iss"] == "gateway@sa-project.iam.gserviceaccount.com")
        #expect(claims["scope"] == "https://www.googleapis.com/auth/cloud-platform")
        #expect(claims["aud"] == .string(Self.tokenURI))
        #expect(claims["iat"]?.intValue == 1_800_000_000 && claims["exp"]?.intValue == 1_800_003_600)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: try Self.base64URLDecode(segments[2]))
        let signingInput = Array("\(segments[0]).\(segments[1])".utf8)
        #expect(key.publicKey.isValidSignature(signature, for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5))
        // A different key does not verify it.
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(!other.publicKey.isValidSignature(signature, for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5))
    }

    /// The exchange posts the form to token_uri; the token is then served from the cache until
    /// five minutes before it expires.
    @Test func exchangesAndCachesTheToken() async throws {
        let endpoint = FakeTokenEndpoint(Self.granted)
        let clock = TestClock()
        let auth = VertexAuth(now: { clock.now })
        #expect(try await auth.accessToken(credentials: credentials, transport: endpoint) == "ya29.test-token")
        let request = try #require(endpoint.requests.first)
        #expect(request.url == Self.tokenURI && request.method == .POST)
        #expect(request.headers.first(name: "content-type") == "application/x-www-form-urlencoded")
        let form = String(decoding: request.body, as: UTF8.self)
        #expect(form.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
        #expect(form.split(separator: "=").last?.split(separator: ".").count == 3)

        clock.advance(by: 3000)
        #expect(try await auth.accessToken(credentials: credentials, transport: endpoint) == "ya29.test-token")
        #expect(endpoint.requests.count == 1, "a cached token must not hit the token endpoint")

        endpoint.answer(with: .init(status: 200, body: #"{"access_token":"ya29.second","expires_in":3599}"#))
        clock.advance(by: 400)  // now within five minutes of expiry
        #expect(try await auth.accessToken(credentials: credentials, transport: endpoint) == "ya29.second")
        #expect(endpoint.requests.count == 2)
    }

    @Test func concurrentRequestsShareOneExchange() async throws {
        let endpoint = FakeTokenEndpoint(Self.granted, delay: .milliseconds(100))
        let auth = VertexAuth()
        let credentials = self.credentials
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<5 { group.addTask { try await auth.accessToken(credentials: credentials, transport: endpoint) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(tokens == Array(repeating: "ya29.test-token", count: 5))
        #expect(endpoint.requests.count == 1)
    }

    /// A refusal from the token endpoint is a 401 that says why, without any secret in it.
    @Test func tokenEndpointRefusalIsAnAuthenticationError() async throws {
        let endpoint = FakeTokenEndpoint(
            .init(status: 400, body: #"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#))
        let auth = VertexAuth()
        do {
            _ = try await auth.accessToken(credentials: credentials, transport: endpoint)
            Issue.record("a refused exchange gave a token")
        } catch {
            #expect(error.status == 401 && error.type == "authentication_error")
            #expect(error.message.contains("invalid_grant") && error.message.contains("Invalid JWT Signature."))
            #expect(!error.message.contains("PRIVATE KEY") && !error.message.contains(credentials))
        }
        // A failure is not cached: the next call tries again.
        endpoint.answer(with: Self.granted)
        #expect(try await auth.accessToken(credentials: credentials, transport: endpoint) == "ya29.test-token")

        let broken = FakeTokenEndpoint(.init(status: 503, body: "unavailable"))
        await #expect(throws: GatewayError.self) {
            try await VertexAuth().accessToken(credentials: credentials, transport: broken)
        }
        let empty = FakeTokenEndpoint(.init(status: 200, body: #"{"token_type":"Bearer"}"#))
        do {
            _ = try await VertexAuth().accessToken(credentials: credentials, transport: empty)
            Issue.record("an answer without access_token gave a token")
        } catch {
            #expect(error.status == 502)
        }
    }

    @Test func badCredentialsAreRefusedWithoutQuotingThem() throws {
        let secretish =
            #"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n"}"#
        let account = try ServiceAccount.load(secretish)
        do throws(GatewayError) {
            _ = try ServiceAccountJWT.assertion(for: account, issuedAt: Date())
            Issue.record("a broken key signed")
        } catch {
            #expect(error.status == 401 && !error.message.contains("not-a-key"))
        }
        let sources = [
            #"{"type":"authorized_user","client_id":"x","refresh_token":"secret-refresh"}"#,
            #"{"type":"service_account","client_email":"a@b"}"#,
            #"{"type":"service_account","client_email":"a@b","private_key":"k","token_uri":"http://plain.example/token"}"#,
            "/nonexistent/key-file.json",
            "{not json",
        ]
        for source in sources {
            do throws(GatewayError) {
                _ = try ServiceAccount.load(source)
                Issue.record("accepted: \(source)")
            } catch {
                #expect(
                    error.status == 401 && !error.message.contains("secret-refresh") && !error.message.contains("/nonexistent"))
            }
        }
    }

    /// prepare() reads the key file named by vertex_credentials and adds the bearer token; the
    /// project comes from the key file when none is configured.
    @Test func prepareAddsTheBearerToken() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-sa-\(UUID().uuidString).json")
        try Data(credentials.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let adapter = GeminiAdapter(platform: .vertexAI, environment: [:])
        var deployment = DeploymentConfig(modelName: "g", provider: "vertex_ai", model: "gemini-2.5-flash", id: "v")
        deployment.providerParams = ["vertex_credentials": file.path, "vertex_location": "us-east5"]
        let request = try OpenAIRequest(
            operation: .chat, bytes: Array(#"{"model":"g","messages":[{"role":"user","content":"x"}]}"#.utf8))
        let upstream = try adapter.request(for: request, deployment: deployment)
        #expect(upstream.url.hasPrefix("https://us-east5-aiplatform.googleapis.com/v1/projects/sa-project/locations/us-east5/"))
        let endpoint = FakeTokenEndpoint(Self.granted)
        let prepared = try await adapter.prepare(upstream, deployment: deployment, transport: endpoint)
        #expect(prepared.headers.first(name: "authorization") == "Bearer ya29.test-token")
        #expect(prepared.url == upstream.url && prepared.body == upstream.body)

        // No credentials anywhere: a clear 401 before anything is sent.
        let bare = DeploymentConfig(modelName: "g", provider: "vertex_ai", model: "gemini-2.5-flash", id: "v")
        do throws(GatewayError) {
            _ = try await adapter.prepare(upstream, deployment: bare, transport: endpoint)
            Issue.record("prepared without credentials")
        } catch {
            #expect(error.status == 401 && error.message.contains("vertex_credentials"))
        }
        // AI Studio needs no token: prepare() leaves the request alone.
        let studio = GeminiAdapter(platform: .aiStudio, environment: [:])
        #expect(
            try await studio.prepare(upstream, deployment: deployment, transport: endpoint).headers.first(name: "authorization")
                == nil)
        #expect(endpoint.requests.count == 1)
    }
}
