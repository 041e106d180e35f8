/// A Sentry DSN, `{scheme}://{public_key}[:{secret_key}]@{host}[:{port}]/{prefix/}{project_id}`,
/// and what it says about where and how to send envelopes.
///
/// Its description never shows the keys: a DSN is a credential of sorts and must not reach a log.
public struct SentryDSN: Sendable, Equatable, CustomStringConvertible {
    public let scheme: String
    public let publicKey: String
    /// Deprecated by Sentry but still honoured when a DSN carries one.
    public let secretKey: String?
    /// As written, with brackets for an IPv6 literal.
    public let host: String
    public let port: Int?
    /// The path before the project id, without a trailing slash: `""` or e.g. `"/sentry"`.
    public let pathPrefix: String
    public let projectID: UInt64

    public init?(_ text: String) {
        // A DSN pasted into an environment file often keeps its trailing newline.
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard let schemeEnd = trimmed.firstRange(of: "://") else { return nil }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = trimmed[schemeEnd.upperBound...]
        // A query or fragment says nothing about the destination; SDKs ignore it.
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]

        guard let at = authority.lastIndex(of: "@") else { return nil }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let keyParts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let publicKey = keyParts.first, !publicKey.isEmpty else { return nil }
        let secretKey = keyParts.count > 1 && !keyParts[1].isEmpty ? String(keyParts[1]) : nil

        guard let (host, port) = Self.splitHostPort(hostPort) else { return nil }

        var segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let last = segments.popLast(), isDigits(last), let projectID = UInt64(last) else {
            return nil
        }
        self.scheme = scheme
        self.publicKey = String(publicKey)
        self.secretKey = secretKey
        self.host = host
        self.port = port
        self.pathPrefix = segments.map { "/" + $0 }.joined()
        self.projectID = projectID
    }

    /// `host[:port]`, with `[v6]:port` for IPv6 literals; nil when the host is empty or the port bad.
    private static func splitHostPort(_ text: Substring) -> (String, Int?)? {
        let host: Substring
        let portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[...close]
            let after = text[text.index(after: close)...]
            if after.isEmpty {
                portText = nil
            } else {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
            portText = nil
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "@" }) else { return nil }
        guard let portText else { return (String(host), nil) }
        guard isDigits(portText), let port = Int(portText), (1...65_535).contains(port) else { return nil }
        return (String(host), port)
    }

    /// `https://o42.ingest.us.sentry.io/api/4505678/envelope/` (the legacy `/store/` is deprecated).
    public var envelopeURL: String {
        let authority = port.map { "\(host):\($0)" } ?? host
        return "\(scheme)://\(authority)\(pathPrefix)/api/\(projectID)/envelope/"
    }

    /// The `X-Sentry-Auth` header value; `client` is `name/version`, e.g. `spanway/0.1.0`.
    public func authHeader(client: String) -> String {
        var value = "Sentry sentry_key=\(publicKey), sentry_version=7, sentry_client=\(client)"
        if let secretKey { value += ", sentry_secret=\(secretKey)" }
        return value
    }

    /// The organisation id in a SaaS host (`o42.ingest.us.sentry.io` → 42); it goes into the
    /// envelope's dynamic sampling context. Nil for self-hosted and older hosts.
    public var orgID: UInt64? {
        let lowered = host.lowercased()
        guard lowered.hasPrefix("o"), let dot = lowered.firstIndex(of: ".") else { return nil }
        let digits = lowered[lowered.index(after: lowered.startIndex)..<dot]
        guard isDigits(digits) else { return nil }
        return UInt64(digits)
    }

    public var description: String {
        "SentryDSN(host: \(host), project: \(projectID))"
    }
}

/// ASCII digits only: `Int("+80")` would otherwise accept a sign.
private func isDigits(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
}
