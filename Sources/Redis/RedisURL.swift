/// The parts of a `redis://` URL. Written by hand because Foundation's URL parsing differs between
/// platforms and this grammar is small.
struct RedisURL: Sendable, Equatable {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var database: Int

    init(parsing url: String) throws(RedisError) {
        var trimmed = url[...]
        while let first = trimmed.first, first.isWhitespace { trimmed.removeFirst() }
        while let last = trimmed.last, last.isWhitespace { trimmed.removeLast() }
        guard let schemeEnd = trimmed.firstRange(of: "://") else {
            throw Self.invalid("it must start with redis://")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "redis": break
        case "rediss":
            throw Self.invalid("TLS (rediss://) is not supported by this client; use redis:// on a trusted network")
        case "unix", "redis+unix", "redis-socket":
            throw Self.invalid("unix sockets are not supported by this client; use redis://host:port")
        default:
            throw Self.invalid("unsupported scheme '\(scheme)'; use redis://")
        }
        var rest = trimmed[schemeEnd.upperBound...]
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            guard rest[query...].count <= 1 else {
                throw Self.invalid("query parameters are not supported; put the database in the path (/db)")
            }
            rest = rest[..<query]
        }
        // The user info ends at the last "@", so an unescaped "@" in a password still parses.
        var authority = rest
        var path: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            let afterAt = rest[rest.index(after: at)...]
            let slash = afterAt.firstIndex(of: "/") ?? afterAt.endIndex
            authority = rest[..<slash]
            path = rest[slash...]
        } else if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[slash...]
        }

        self.username = nil
        self.password = nil
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userInfo[..<colon], what: "username")
                self.username = user.isEmpty ? nil : user
                self.password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], what: "password")
            } else if !userInfo.isEmpty {
                throw Self.invalid("a username needs a password (redis://user:password@host)")
            }
        }

        let (host, port) = try Self.hostAndPort(hostPort)
        self.host = host
        self.port = port

        let db = path.drop(while: { $0 == "/" })
        if db.isEmpty {
            self.database = 0
        } else if let number = Int(db), number >= 0 {
            self.database = number
        } else {
            throw Self.invalid("the path must be a database number (/0, /1, …)")
        }
    }

    private static func hostAndPort(_ text: Substring) throws(RedisError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Self.invalid("unclosed '[' in the IPv6 host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw Self.invalid("unexpected text after the IPv6 host")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw Self.invalid("the host is missing") }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                // Not echoed: in `redis://:secret` the password is where a port would be.
                throw Self.invalid("the port must be a number from 1 to 65535")
            }
            port = number
        }
        return (String(host), port)
    }

    /// `%XX` escapes decoded as UTF-8. The error names the part, never its content (it may be a password).
    private static func percentDecoded(_ text: Substring, what: String) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.popFirst().flatMap(Self.hexValue), let low = utf8.popFirst().flatMap(Self.hexValue)
            else {
                throw Self.invalid("the \(what) has a bad %-escape")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw Self.invalid("the \(what) is not valid UTF-8 after %-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func invalid(_ reason: String) -> RedisError {
        RedisError(kind: .configuration, message: "invalid Redis URL: \(reason)")
    }
}
