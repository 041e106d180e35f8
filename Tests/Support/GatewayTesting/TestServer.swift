import Hummingbird
import Logging
import ServiceLifecycle

/// Services run for a test, listening on 127.0.0.1 port 0. `start` returns once they listen, and
/// throws when they stop before that (a bind failure, a bad configuration) instead of waiting
/// for a port forever.
public struct TestServer: Sendable {
    public struct StoppedBeforeListening: Error {}

    public let port: Int
    private let group: ServiceGroup
    private let run: Task<Void, any Error>

    /// `makeServices` gets the callback to call with the port once the server listens.
    public static func start(
        logger: Logger, _ makeServices: (@escaping @Sendable (Int) -> Void) throws -> [any Service]
    ) async throws -> TestServer {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let services = try makeServices { portSink.yield($0) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let run = Task {
            // Ends the wait below however the services stop.
            defer { portSink.finish() }
            try await group.run()
        }
        for await port in ports { return TestServer(port: port, group: group, run: run) }
        try await run.value
        throw StoppedBeforeListening()
    }

    /// Serves `router` over HTTP/1.1.
    public static func start(_ router: Router<BasicRequestContext>, logger: Logger) async throws -> TestServer {
        try await start(logger: logger) { listening in
            [
                Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { listening($0.localAddress?.port ?? 0) }, logger: logger)
            ]
        }
    }

    /// Shuts down gracefully and waits; rethrows what the services threw.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await run.value
    }
}

/// Runs `router` on 127.0.0.1 port 0 for the duration of `body`, which gets the port.
public func withTestServer(
    _ router: Router<BasicRequestContext>, _ body: (Int) async throws -> Void
) async throws {
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let server = try await TestServer.start(router, logger: logger)
    do {
        try await body(server.port)
    } catch {
        try? await server.stop()
        throw error
    }
    try await server.stop()
}
