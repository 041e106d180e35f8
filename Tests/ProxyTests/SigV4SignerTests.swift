import Foundation
import NIOHTTP1
import Testing

@testable import Proxy

/// The published vectors of provider-fixtures/bedrock/sigv4-test-vectors.md, every intermediate
/// value compared exactly.
@Suite struct SigV4SignerTests {
    /// 20261125T120000Z.
    static let vectorDate = Date(timeIntervalSince1970: 1_795_608_000)
    static let body = Array(
        #"{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":64}}"#.utf8)
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test func vector1LongTermKeyConverse() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret),
            region: "us-east-1", service: "bedrock")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        // Added by the gateway and the HTTP client: must stay out of the signature.
        headers.add(name: "traceparent", value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        headers.add(name: "user-agent", value: "spanway")
        let request = UpstreamRequest(
            url: "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
            headers: headers, body: Self.body)
        #expect(Self.body.count == 94)
        let signed = try signer.sign(request, at: Self.vectorDate)
        #expect(signed.headers.first(name: "x-amz-date") == "20261125T120000Z")
        #expect(signed.headers.first(name: "host") == "bedrock-runtime.us-east-1.amazonaws.com")
        #expect(!signed.headers.contains(name: "x-amz-security-token"))
        let parts = try #require(signer.signature(for: signed))
        #expect(
            parts.canonicalRequest == """
                POST
                /model/anthropic.claude-3-5-haiku-20241022-v1%253A0/converse

                content-type:application/json
                host:bedrock-runtime.us-east-1.amazonaws.com
                x-amz-date:20261125T120000Z

                content-type;host;x-amz-date
                f5b802cc64a01910fd197a46e9e959f3a5795f7728fa5710fb28f1ec3019f545
                """)
        #expect(
            parts.stringToSign == """
                AWS4-HMAC-SHA256
                20261125T120000Z
                20261125/us-east-1/bedrock/aws4_request
                d14c35a67d0d0140277d7a6410e6de243b55bf71e942b56b62f88321075e1855
                """)
        #expect(parts.signature == "b45c131e731081e3a0af425d0eb89985134dcaf1a98dfcafe71a32555a844c6a")
        #expect(
            signed.headers.first(name: "authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261125/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=b45c131e731081e3a0af425d0eb89985134dcaf1a98dfcafe71a32555a844c6a"
        )
        #expect(signed.headers.first(name: "traceparent") != nil)
    }

    @Test func vector2SessionTokenConverseStream() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret, sessionToken: "IQoJb3JpZ2luX2VjEXAMPLETOKEN"),
            region: "us-west-2", service: "bedrock")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/vnd.amazon.eventstream")
        let request = UpstreamRequest(
            url:
                "https://bedrock-runtime.us-west-2.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream",
            headers: headers, body: Self.body)
        let signed = try signer.sign(request, at: Self.vectorDate)
        #expect(signed.headers.first(name: "x-amz-security-token") == "IQoJb3JpZ2luX2VjEXAMPLETOKEN")
        let parts = try #require(signer.signature(for: signed))
        #expect(
            parts.canonicalRequest == """
                POST
                /model/us.anthropic.claude-sonnet-4-5-20250929-v1%253A0/converse-stream

                accept:application/vnd.amazon.eventstream
                content-type:application/json
                host:bedrock-runtime.us-west-2.amazonaws.com
                x-amz-date:20261125T120000Z
                x-amz-security-token:IQoJb3JpZ2luX2VjEXAMPLETOKEN

                accept;content-type;host;x-amz-date;x-amz-security-token
                f5b802cc64a01910fd197a46e9e959f3a5795f7728fa5710fb28f1ec3019f545
                """)
        #expect(
            parts.stringToSign == """
                AWS4-HMAC-SHA256
                20261125T120000Z
                20261125/us-west-2/bedrock/aws4_request
                279bcc984c000a4215bd033cb87f30a55b12535fd94559f74583969b04cfd07c
                """)
        #expect(parts.signature == "546ea14c2120acc3a833993b568dfe2f7d25273e12a1b6f2a60885814f9dcf87")
        #expect(
            signed.headers.first(name: "authorization")
                == "AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20261125/us-west-2/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=546ea14c2120acc3a833993b568dfe2f7d25273e12a1b6f2a60885814f9dcf87"
        )
    }

    /// Values are trimmed and inner space runs collapsed; an `x-amz-content-sha256` header is
    /// signed and replaces the computed body hash; an old `authorization` is replaced.
    @Test func canonicalisesHeadersAndHonoursContentHash() throws {
        var headers = HTTPHeaders()
        headers.add(name: "X-Amz-Meta-Note", value: "  a   b \t c  ")
        headers.add(name: "x-amz-content-sha256", value: "UNSIGNED-PAYLOAD")
        headers.add(name: "authorization", value: "stale")
        let (canonical, signed) = SigV4Signer.canonicalHeaders(headers)
        #expect(canonical == "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-meta-note:a b c\n")
        #expect(signed == "x-amz-content-sha256;x-amz-meta-note")
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: Self.secret), region: "eu-west-1",
            service: "bedrock")
        let request = try signer.sign(
            UpstreamRequest(url: "https://example.com/a%20b?z=1&a=x%2Fy", headers: headers, body: [1, 2, 3]), at: Self.vectorDate)
        let parts = try #require(signer.signature(for: request))
        let lines = parts.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1] == "/a%2520b" && lines[2] == "a=x%2Fy&z=1" && lines.last == "UNSIGNED-PAYLOAD")
        #expect(request.headers["authorization"].count == 1)
        #expect(
            request.headers.first(name: "authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/20261125/eu-west-1/")
                == true)
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: Self.secret, sessionToken: "TOKEN-VALUE")
        #expect(!"\(credentials)".contains(Self.secret) && !"\(credentials)".contains("TOKEN-VALUE"))
        #expect(!String(reflecting: credentials).contains(Self.secret))
    }
}
