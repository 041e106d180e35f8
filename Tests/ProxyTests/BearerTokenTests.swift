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
        #expect(Authenticator.bearerToken(header) == key)
    }

    @Test func anAPIKeyHeaderIsUsedWhenAuthorizationCarriesNoBearerToken() throws {
        var headers: HTTPFields = [.authorization: "Basic c2stMQ=="]
        headers[try #require(HTTPField.Name("x-api-key"))] = "sk-2"
        #expect(Authenticator.presentedKey(headers) == "sk-2")
        headers[.authorization] = "Bearer sk-1"
        #expect(Authenticator.presentedKey(headers) == "sk-1")
        #expect(Authenticator.presentedKey([:]) == nil)
    }
}
