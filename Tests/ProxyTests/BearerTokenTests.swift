import HTTPTypes
import Testing

@testable import Proxy

/// `Authorization: Bearer <key>` (RFC 6750 §2.1: the scheme is case-insensitive) or `x-api-key`.
@Suite struct BearerTokenTests {
    @Test(
        arguments: [
            ("Bearer sk-1", "sk-1"), ("bearer sk-1", "sk-1"), ("BEARER sk-1", "sk-1"), ("  Bearer   sk-1 \t", "sk-1"),
            ("Bearer\tsk-1", nil), ("Bearer ", nil), ("Bearer    ", nil), ("Basic c2stMQ==", nil), ("Bearersk-1", nil),
            ("Bearer sk é", "sk é"), ("", nil),
        ] as [(String, String?)])
    func bearerTokens(_ header: String, _ key: String?) {
        #expect(Authenticator.token(header, scheme: "bearer ") == key)
    }

    /// LiteLLM's order (its auth docs): `x-litellm-api-key`, `Authorization`, `api-key` (Azure
    /// OpenAI clients), `x-api-key` (Anthropic), `x-goog-api-key`, `Ocp-Apim-Subscription-Key`.
    @Test func keysAreTakenFromLiteLLMsHeadersInItsOrder() throws {
        func key(_ fields: [(String, String)]) throws -> String? {
            var headers = HTTPFields()
            for (name, value) in fields { headers[try #require(HTTPField.Name(name))] = value }
            return try Authenticator.presentedKey(headers)
        }
        #expect(try key([("x-litellm-api-key", "sk-lite"), ("authorization", "Bearer sk-auth")]) == "sk-lite")
        #expect(try key([("x-litellm-api-key", "Bearer sk-lite")]) == "sk-lite")
        #expect(try key([("x-litellm-api-key", ""), ("authorization", "Bearer sk-auth")]) == "sk-auth")
        #expect(try key([("authorization", "Bearer sk-auth"), ("api-key", "sk-azure")]) == "sk-auth")
        #expect(try key([("api-key", "sk-azure"), ("x-api-key", "sk-anthropic")]) == "sk-azure")
        #expect(try key([("x-api-key", "sk-anthropic"), ("x-goog-api-key", "sk-google")]) == "sk-anthropic")
        #expect(try key([("x-goog-api-key", "sk-google"), ("ocp-apim-subscription-key", "sk-apim")]) == "sk-google")
        #expect(try key([("Ocp-Apim-Subscription-Key", "sk-apim")]) == "sk-apim")
    }

    /// LiteLLM ranks `Authorization` above the raw-key headers even when it is unusable: `Basic`
    /// loses its prefix and the rest is the key (not base64-decoded); any other scheme is a 401,
    /// not a fall-through to `x-api-key`. A blank header is skipped.
    @Test func authorizationOutranksRawKeyHeadersWhateverItsScheme() throws {
        var headers: HTTPFields = [.authorization: "Basic c2stMQ=="]
        headers[try #require(HTTPField.Name("x-api-key"))] = "sk-2"
        #expect(try Authenticator.presentedKey(headers) == "c2stMQ==")
        headers[.authorization] = "Bearer sk-1"
        #expect(try Authenticator.presentedKey(headers) == "sk-1")
        headers[.authorization] = " \t"
        #expect(try Authenticator.presentedKey(headers) == "sk-2")
        #expect(try Authenticator.presentedKey([:]) == nil)
        for malformed in ["sk-1", "Token sk-1", "Bearer", "Digest username=x"] {
            headers[.authorization] = malformed
            #expect(throws: GatewayError.self) { try Authenticator.presentedKey(headers) }
            do {
                _ = try Authenticator.presentedKey(headers)
            } catch {
                #expect(error.status == 401 && error.param == "authorization")
                #expect(!error.message.contains("sk-1"))
            }
        }
    }
}
