import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Telemetry
import _CryptoExtras

/// Access tokens for Vertex AI from service-account keys, by the OAuth2 JWT bearer flow (RFC 7523,
/// https://developers.google.com/identity/protocols/oauth2/service-account). A token is cached per credential until shortly before it expires, and only
/// one exchange per credential is in flight: concurrent requests wait for it.
public actor VertexAuth {
    private struct Token: Sendable {
        var value: String
        var refreshAt: Date
    }

    /// Keyed by the credential source (a path or the JSON itself), so a rotated key file is read
    /// again at the next refresh.
    private var tokens: [String: Token] = [:]
    private var inFlight: [String: Task<Token, any Error>] = [:]
    private let now: @Sendable () -> Date

    static let tokenTimeout: Duration = .seconds(30)
    static let maxTokenResponse = 64 * 1024

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// `credentials` is a service-account key: its JSON, or the path of the file holding it.
    func accessToken(credentials: String, transport: any Transport) async throws(GatewayError) -> String {
        if let token = tokens[credentials], now() < token.refreshAt { return token.value }
        let task: Task<Token, any Error>
        if let running = inFlight[credentials] {
            task = running
        } else {
            let now = self.now
            task = Task { try await Self.exchange(credentials: credentials, transport: transport, now: now) }
            inFlight[credentials] = task
        }
        do {
            let token = try await task.value
            tokens[credentials] = token
            if inFlight[credentials] == task { inFlight[credentials] = nil }
            return token.value
        } catch {
            if inFlight[credentials] == task { inFlight[credentials] = nil }
            throw (error as? GatewayError)
                ?? .upstreamUnavailable("The Vertex AI token exchange failed.", errorType: "vertex_token")
        }
    }

    /// Signs an assertion and trades it for an access token at the account's `token_uri`.
    private static func exchange(credentials: String, transport: any Transport, now: @Sendable () -> Date)
        async throws(GatewayError) -> Token
    {
        let account = try ServiceAccount.load(credentials)
        let issued = now()
        let assertion = try ServiceAccountJWT.assertion(for: account, issuedAt: issued)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        // The assertion is base64url and dots only: nothing in it needs percent-encoding.
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        let request = UpstreamRequest(url: account.tokenURI, headers: headers, body: Array(form.utf8))
        let status: Int
        let body: [UInt8]
        do {
            let response = try await transport.send(request, timeout: tokenTimeout)
            status = response.status
            body = try await response.collect(upTo: maxTokenResponse)
        } catch {
            throw .upstreamUnavailable(
                "Could not reach the Google token endpoint for Vertex AI credentials.", errorType: "vertex_token")
        }
        let json = try? JSONParser.parse(body)
        guard (200..<300).contains(status) else {
            // OAuth2 errors (`invalid_grant`, `invalid_client`) name a credential problem; say which,
            // but never echo anything of the assertion.
            let reason = [json?["error"]?.stringValue, json?["error_description"]?.stringValue]
                .compactMap { $0 }.joined(separator: ": ")
            let detail = reason.isEmpty ? "" : " (\(SecretRedactor.scrub(reason, secrets: [assertion])))"
            if (400..<500).contains(status) {
                throw .authentication("Google refused the Vertex AI service-account credentials\(detail).")
            }
            throw .upstreamUnavailable(
                "The Google token endpoint answered HTTP \(status) for Vertex AI credentials\(detail).", errorType: "vertex_token"
            )
        }
        guard let value = json?["access_token"]?.stringValue, !value.isEmpty else {
            throw .badUpstreamResponse("The Google token endpoint answered without an access_token.")
        }
        let lifetime = Double(json?["expires_in"]?.intValue ?? 3600)
        // Refresh five minutes early, or halfway through a token that lives less than ten minutes.
        let refreshAfter = lifetime > 600 ? lifetime - 300 : lifetime / 2
        return Token(value: value, refreshAt: issued.addingTimeInterval(refreshAfter))
    }
}

/// A Google service-account key, as `gcloud iam service-accounts keys create` writes it.
struct ServiceAccount: Sendable {
    var clientEmail: String
    /// PEM, PKCS#8 in Google's files.
    var privateKey: String
    var privateKeyID: String?
    var tokenURI: String
    var projectID: String?

    static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    /// From the JSON itself or from the file it names. Messages never quote either: both are secret.
    static func load(_ source: String) throws(GatewayError) -> ServiceAccount {
        let trimmed = source.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") { return try parse(Array(trimmed.utf8)) }
        guard let data = FileManager.default.contents(atPath: trimmed) else {
            throw .authentication("The Vertex AI service-account key file named by vertex_credentials cannot be read.")
        }
        return try parse(Array(data))
    }

    static func parse(_ bytes: [UInt8]) throws(GatewayError) -> ServiceAccount {
        guard let json = try? JSONParser.parse(bytes), json.objectValue != nil else {
            throw .authentication("The Vertex AI credentials are not a JSON service-account key.")
        }
        if let type = json["type"]?.stringValue, type != "service_account" {
            throw .authentication(
                "Vertex AI credentials of type '\(type)' are not supported; use a service-account key (type service_account).")
        }
        guard let email = json["client_email"]?.stringValue, let key = json["private_key"]?.stringValue else {
            throw .authentication("The Vertex AI service-account key has no client_email or private_key.")
        }
        let tokenURI = json["token_uri"]?.stringValue ?? defaultTokenURI
        // The signed assertion is a bearer credential for an hour: never send it in the clear.
        guard tokenURI.hasPrefix("https://") else {
            throw .authentication("The Vertex AI service-account key's token_uri is not an https URL.")
        }
        return ServiceAccount(
            clientEmail: email, privateKey: key, privateKeyID: json["private_key_id"]?.stringValue, tokenURI: tokenURI,
            projectID: json["project_id"]?.stringValue)
    }
}

/// The signed JWT a service account presents to Google's token endpoint (RFC 7523,
/// https://www.rfc-editor.org/rfc/rfc7523).
enum ServiceAccountJWT {
    static let scope = "https://www.googleapis.com/auth/cloud-platform"
    /// The longest Google accepts.
    static let lifetime = 3600

    static func assertion(for account: ServiceAccount, issuedAt: Date) throws(GatewayError) -> String {
        var header: JSONObject = ["alg": "RS256", "typ": "JWT"]
        if let id = account.privateKeyID { header["kid"] = .string(id) }
        let iat = Int(issuedAt.timeIntervalSince1970)
        let claims: JSONObject = [
            "iss": .string(account.clientEmail), "scope": .string(scope), "aud": .string(account.tokenURI),
            "iat": .int(iat), "exp": .int(iat + lifetime),
        ]
        let signingInput = base64URL(JSONValue.object(header).encoded()) + "." + base64URL(JSONValue.object(claims).encoded())
        let signature: _RSA.Signing.RSASignature
        do {
            let key = try _RSA.Signing.PrivateKey(pemRepresentation: account.privateKey)
            // RS256 is RSASSA-PKCS1-v1_5 with SHA-256; swift-crypto calls that padding "insecure" only to discourage new designs.
            signature = try key.signature(for: SHA256.hash(data: Array(signingInput.utf8)), padding: .insecurePKCS1v1_5)
        } catch {
            throw .authentication("The Vertex AI service-account private_key is not a usable RSA key.")
        }
        return signingInput + "." + base64URL(signature.rawRepresentation)
    }

    /// RFC 7515 base64url: `-` and `_` for `+` and `/`, no padding.
    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
