import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The gateway as services: the HTTP server, the evaluation runs, then the telemetry pipeline.
/// Services stop in reverse order, so on SIGTERM the server stops accepting and finishes in-flight
/// requests first, running evaluations stop sending and settle, and the pipeline then flushes
/// every sink.
public enum GatewayApplication {
    public static func services(
        gateway: Gateway, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any Service] {
        let limits = gateway.config.serverLimits
        let evaluations = EvaluationRuns(gateway: gateway)
        let health = HealthChecks(gateway: gateway)
        let app = Application(
            router: GatewayServer.makeRouter(gateway: gateway, evaluations: evaluations, healthChecks: health),
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestReadTimeoutHandler(limits: limits)])),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "spanway",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        let background: [any Service] = gateway.config.healthChecks.background ? [BackgroundHealthChecks(checks: health)] : []
        // Stopped in reverse order: the server first, so requests finishing release their shared slots.
        let shared: [any Service] = gateway.sharedState.map { [$0] } ?? []
        return [gateway.pipeline] + shared + (gateway.alertMonitor.map { [$0] } ?? []) + background + [evaluations, app]
    }

    public static func run(
        gateway: Gateway, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services(gateway: gateway, host: host, port: port, logger: logger, onServerRunning: onServerRunning),
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Spend a previous process left in the journal is in the store before the first request
        // (budgets read it), and every answered request's row is there when the process ends.
        await gateway.ledger?.flush()
        try await group.run()
        await gateway.ledger?.close()
    }
}
