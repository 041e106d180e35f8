import NIOCore
import NIOPosix

public struct NoLocalPort: Error {}

/// A loopback port nothing listens on right now (bound, read, closed): for a server a test
/// starts itself, or for a service that must be unreachable.
public func unusedLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port
    try await channel.close()
    guard let port else { throw NoLocalPort() }
    return port
}
