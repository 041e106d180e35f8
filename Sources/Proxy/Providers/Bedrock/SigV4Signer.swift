import Crypto
import Foundation
import NIOHTTP1

/// AWS Signature Version 4 in the `Authorization` header, the way botocore's `SigV4Auth` signs
/// every service but S3 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html). Written here because the only packages that do it
/// are the AWS SDKs, far too large a dependency for one HMAC chain.
///
/// Only an allow-list of headers is signed (`host`, `content-type`, `accept` and `x-amz-*`), so
/// headers added or rewritten on the way (`traceparent`, `user-agent`, hop-by-hop headers) can
/// never invalidate a signature.
struct SigV4Signer: Sendable {
    static let algorithm = "AWS4-HMAC-SHA256"

    let credentials: AWSCredentials
    let region: String
    let service: String

    /// Every intermediate value of one signature, kept apart so each can be checked against the
    /// published test vectors.
    struct Signature: Sendable, Equatable {
        var canonicalRequest: String
        var stringToSign: String
        var signature: String
        var authorization: String
    }

    /// The request with `host`, `x-amz-date`, `x-amz-security-token` (temporary credentials) and
    /// `authorization` set. `date` is a parameter so signatures are reproducible in tests.
    func sign(_ request: UpstreamRequest, at date: Date) throws(GatewayError) -> UpstreamRequest {
        guard let target = Target(url: request.url) else {
            throw .internal("The Bedrock request URL has no host, so it cannot be signed.")
        }
        var signed = request
        signed.headers.remove(name: "authorization")
        signed.headers.replaceOrAdd(name: "host", value: target.host)
        signed.headers.replaceOrAdd(name: "x-amz-date", value: Self.amzDate(date))
        if let token = credentials.sessionToken {
            signed.headers.replaceOrAdd(name: "x-amz-security-token", value: token)
        } else {
            signed.headers.remove(name: "x-amz-security-token")
        }
        let parts = signature(for: signed, target: target)
        signed.headers.replaceOrAdd(name: "authorization", value: parts.authorization)
        return signed
    }

    /// The signature of a request that already carries its `host` and `x-amz-date` headers.
    func signature(for request: UpstreamRequest) -> Signature? {
        Target(url: request.url).map { signature(for: request, target: $0) }
    }

    private func signature(for request: UpstreamRequest, target: Target) -> Signature {
        let amzDate = request.headers.first(name: "x-amz-date") ?? ""
        let day = String(amzDate.prefix(8))
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let payloadHash = request.headers.first(name: "x-amz-content-sha256") ?? Self.hex(SHA256.hash(data: request.body))
        let canonicalRequest = [
            request.method.rawValue, Self.uriEncode(target.path, keepSlash: true), Self.canonicalQuery(target.query),
            canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            Self.algorithm, amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            authorization: authorization)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func amzDate(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(dateSeparator: .omitted, dateTimeSeparator: .standard, timeSeparator: .omitted))
    }

    static func isSigned(_ name: String) -> Bool {
        name == "host" || name == "content-type" || name == "accept" || name.hasPrefix("x-amz-")
    }

    /// `name:value\n` for each signed header, sorted by name (same-name values joined by `,`,
    /// trimmed, inner runs of spaces collapsed), and the `;`-joined names.
    static func canonicalHeaders(_ headers: HTTPHeaders) -> (canonical: String, signed: String) {
        var values: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased()
            guard isSigned(name) else { continue }
            let value = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            values[name, default: []].append(value)
        }
        let names = values.keys.sorted()
        let canonical = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// Sorted `key=value` pairs, each decoded as sent and re-encoded the AWS way.
    static func canonicalQuery(_ query: Substring) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in String(s).removingPercentEncoding ?? String(s) }
            let value = parts.count > 1 ? uriEncode(decode(parts[1]), keepSlash: false) : ""
            return (uriEncode(decode(parts[0]), keepSlash: false), value)
        }
        return pairs.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encodes every byte but `A-Z a-z 0-9 - _ . ~` (and `/` in paths), upper-case hex.
    /// The path is encoded as sent, so an already-encoded model id (`%3A`) is encoded again
    /// (`%253A`), as SigV4 requires for every service but S3.
    static func uriEncode(_ text: some StringProtocol, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += "%" + hexDigits(byte, uppercase: true)
            }
        }
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { hexDigits($0, uppercase: false) }.joined()
    }

    private static let lowerDigits = Array("0123456789abcdef".utf8)
    private static let upperDigits = Array("0123456789ABCDEF".utf8)

    private static func hexDigits(_ byte: UInt8, uppercase: Bool) -> String {
        let digits = uppercase ? upperDigits : lowerDigits
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    /// The parts of the URL the signature covers: the authority (sent as `host`), the path as
    /// sent and the raw query.
    struct Target {
        var host: String
        var path: Substring
        var query: Substring

        init?(url: String) {
            guard let schemeEnd = url.range(of: "://") else { return nil }
            let rest = url[schemeEnd.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            guard !authority.isEmpty else { return nil }
            host = authority.lowercased()
            let pathAndQuery = rest[authority.endIndex...]
            let question = pathAndQuery.firstIndex(of: "?")
            let path = pathAndQuery[..<(question ?? pathAndQuery.endIndex)]
            self.path = path.isEmpty ? "/" : path
            query = question.map { pathAndQuery[pathAndQuery.index(after: $0)...] } ?? ""
        }
    }
}
