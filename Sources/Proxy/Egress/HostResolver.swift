import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Resolves host names for the egress checks; a protocol so tests can play DNS.
public protocol HostResolver: Sendable {
    /// Every address the name resolves to; empty when it does not resolve.
    func addresses(of host: String) async -> [IPAddress]
}

/// The system resolver (`getaddrinfo`, as the HTTP client itself uses). `getaddrinfo` blocks, so
/// it runs on a thread of its own: never on an event loop, nor on a thread of Swift's small
/// cooperative pool.
public struct SystemResolver: HostResolver {
    public init() {}

    public func addresses(of host: String) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: Self.lookUp(host)) }
        }
    }

    static func lookUp(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [IPAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            if let socketAddress = entry.pointee.ai_addr {
                switch Int32(entry.pointee.ai_family) {
                case AF_INET:
                    let address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        $0.pointee.sin_addr.s_addr
                    }
                    found.append(.v4(UInt32(bigEndian: address)))
                case AF_INET6:
                    var address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    found.append(.v6(withUnsafeBytes(of: &address) { $0.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }))
                default:
                    break
                }
            }
            next = entry.pointee.ai_next
        }
        return found
    }
}
