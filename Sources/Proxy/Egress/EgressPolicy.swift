import Foundation
import Sinks

/// Where destinations supplied through the admin API (a team's callbacks) may send traffic.
///
/// Such a destination receives the gateway's requests, with headers the team chose, from inside
/// the gateway's network; without a check, a team admin could point it at a cloud metadata
/// service or an internal host. So its host must resolve only to public addresses, unless
/// `spanway_settings.allowed_egress` allows it by CIDR or by name. Destinations the operator wrote
/// in the config file are trusted and not checked here.
///
/// The check runs when the destination is set (a 400 naming the field) and again before each
/// batch is delivered (`EgressGuardedExporter`), because DNS may change in between.
public struct EgressPolicy: Sendable {
    public enum Rule: Hashable, Sendable, CustomStringConvertible {
        case network(IPNetwork)
        /// A host name; `*.example.com` allows its subdomains.
        case host(String)

        /// A CIDR, an address, a host name or `*.` and a host name; nil for anything else.
        public init?(_ text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let network = IPNetwork(trimmed) {
                self = .network(network)
                return
            }
            let name = EgressPolicy.normalised(trimmed.hasPrefix("*.") ? String(trimmed.dropFirst(2)) : trimmed)
            guard EgressPolicy.isHostName(name), !name.contains("/") else { return nil }
            self = .host(trimmed.hasPrefix("*.") ? "*." + name : name)
        }

        public var description: String {
            switch self {
            case .network(let network): network.description
            case .host(let name): name
            }
        }
    }

    /// Why a destination was refused; `message` names no resolved address.
    public enum Refusal: Error, Equatable, Sendable {
        case notAURL
        case unresolvable(String)
        case forbidden(host: String, AddressClass)

        public var message: String {
            switch self {
            case .notAURL: "must be an http:// or https:// URL with a host (no percent-encoding or user info in the host)"
            case .unresolvable(let host): "names a host ('\(host)') that does not resolve"
            case .forbidden(let host, let kind):
                "points to \(kind.label) ('\(host)'), where team destinations may not send; spanway_settings.allowed_egress can allow it"
            }
        }
    }

    public var allowed: [Rule]
    let resolver: any HostResolver

    public init(allowed: [Rule] = [], resolver: any HostResolver = SystemResolver()) {
        self.allowed = allowed
        self.resolver = resolver
    }

    /// Nil when `url` may receive traffic; else why not.
    public func check(url: String) async -> Refusal? {
        guard let host = Self.host(of: url) else { return .notAURL }
        return await check(host: host)
    }

    public func check(host rawHost: String) async -> Refusal? {
        let host = Self.normalised(rawHost)
        guard !host.isEmpty else { return .notAURL }
        if allows(name: host) { return nil }
        if let kind = AddressClass.of(name: host) { return .forbidden(host: host, kind) }
        // An address literal in any spelling is checked as the address it is, without DNS.
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            addresses = await resolver.addresses(of: host)
            // A name that resolves to nothing now may resolve to anything later.
            guard !addresses.isEmpty else { return .unresolvable(host) }
        }
        for address in addresses {
            let kind = AddressClass.of(address)
            guard kind != .public else { continue }
            if allows(address: address) { continue }
            return .forbidden(host: host, kind)
        }
        return nil
    }

    func allows(name: String) -> Bool {
        allowed.contains { rule in
            guard case .host(let allowedName) = rule else { return false }
            if allowedName.hasPrefix("*.") { return name.hasSuffix(allowedName.dropFirst()) }
            return name == allowedName
        }
    }

    func allows(address: IPAddress) -> Bool {
        allowed.contains { rule in
            guard case .network(let network) = rule else { return false }
            return network.contains(address)
        }
    }

    /// The host an HTTP client would connect to for `url`: the same parser (Foundation's) the
    /// client uses. Nil for what is not an http(s) URL, for hosts spelled with percent-escapes
    /// (`169%2e254…`) and for URLs with user info (`http://a@b@c/`), which parsers disagree on.
    static func host(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let encoded = components.percentEncodedHost, !encoded.isEmpty,
            !encoded.contains("%"), components.percentEncodedUser == nil, components.percentEncodedPassword == nil
        else { return nil }
        return encoded
    }

    /// Lower case, without brackets or a trailing dot (`localhost.` is `localhost`).
    static func normalised(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }

    static func isHostName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && label.count <= 63
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }
    }
}

extension EgressPolicy {
    /// Checks a sink's destination: the host a Sentry DSN names, else the URL's host.
    public func check(sink: SinkConfig) async -> Refusal? {
        if case .sentry(let text, _, _) = sink.destination {
            guard let dsn = SentryDSN(text) else { return .notAURL }
            return await check(host: dsn.host)
        }
        return await check(url: sink.destination.address)
    }
}
