import Foundation

/// A parsed `postgres://user[:password]@host[:port]/database[?sslmode=…&schema=…]` (`postgresql://`
/// too). The password is kept only to log in: `description` leaves it out, so errors and logs can
/// name the server safely.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode` values this store supports (https://www.postgresql.org/docs/current/libpq-ssl.html).
    public enum SSLMode: String, Sendable, Equatable {
        case disable, prefer, require
        /// TLS with the certificate checked against the system roots and the host name.
        case verifyFull = "verify-full"
    }

    public var username: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// Prisma's `?schema=` (LiteLLM's URLs use it): the schema the tables live in, first on the
    /// search path; nil means the server's default (`public`).
    public var schema: String?

    public var description: String {
        "\(username)@\(host):\(port)/\(database)"
    }

    public init(_ text: String) throws(PostgresStoreError) {
        guard let schemeEnd = text.range(of: "://"),
            ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound].lowercased())
        else {
            throw .badURL("a PostgreSQL URL must start with postgres:// or postgresql://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        // The last `@` ends the credentials: a password may contain an unescaped `@`.
        guard let at = rest.lastIndex(of: "@") else {
            throw .badURL("a PostgreSQL URL must name a user: postgres://user[:password]@host[:port]/database")
        }
        let credentials = rest[..<at]
        var location = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            username = try Self.decoded(credentials[..<colon], "user")
            password = try Self.decoded(credentials[credentials.index(after: colon)...], "password")
        } else {
            username = try Self.decoded(credentials, "user")
            password = nil
        }
        guard !username.isEmpty else { throw .badURL("the PostgreSQL URL names an empty user") }
        guard let slash = location.firstIndex(of: "/") else {
            throw .badURL("the PostgreSQL URL for \(username) names no database (…@host:port/database)")
        }
        database = try Self.decoded(location[location.index(after: slash)...], "database")
        location = location[..<slash]
        guard !database.isEmpty else { throw .badURL("the PostgreSQL URL for \(username) names an empty database") }
        port = 5432
        if location.hasPrefix("[") {
            // An IPv6 literal: `[::1]:5432`.
            guard let close = location.firstIndex(of: "]") else {
                throw .badURL("the PostgreSQL URL has an unclosed [ in its host")
            }
            host = String(location[location.index(after: location.startIndex)..<close])
            location = location[location.index(after: close)...]
        } else if let colon = location.lastIndex(of: ":") {
            host = String(location[..<colon])
            location = location[colon...]
        } else {
            host = String(location)
            location = ""
        }
        if location.hasPrefix(":") {
            guard let value = Int(location.dropFirst()), (1...65535).contains(value) else {
                throw .badURL("the PostgreSQL URL's port must be a number from 1 to 65535")
            }
            port = value
        }
        guard !host.isEmpty else { throw .badURL("the PostgreSQL URL names no host") }
        sslMode = .prefer
        schema = nil
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = String(parts[0])
            let value = parts.count > 1 ? try Self.decoded(parts[1], name) : ""
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw .badURL("sslmode must be disable, prefer, require or verify-full, not '\(value)'")
                }
                sslMode = mode
            case "schema":
                // Spliced into SQL as an identifier, so only plain names.
                guard !value.isEmpty, value.count <= 63,
                    value.unicodeScalars.allSatisfy({
                        ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || $0 == "_"
                    })
                else {
                    throw .badURL("schema must be letters, digits and underscores (at most 63)")
                }
                schema = value
            default:
                // libpq and Prisma accept many more (connect_timeout, connection_limit, …); none
                // changes what is stored, so they are ignored rather than refused.
                continue
            }
        }
    }

    private static func decoded(_ part: Substring, _ what: String) throws(PostgresStoreError) -> String {
        guard let value = String(part).removingPercentEncoding else {
            throw .badURL("the PostgreSQL URL's \(what) has a malformed %-escape")
        }
        return value
    }
}
