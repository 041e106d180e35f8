import AsyncHTTPClient
import Foundation
import NIOCore
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

@Suite(.serialized, .timeLimit(.minutes(3))) struct TelemetryDeliveryTests {
    static let config = """
        model_list:
          - model_name: m
            litellm_params: {model: mock/gpt-4o-mini}
          - model_name: slow
            litellm_params: {model: mock/slow-400}
        litellm_settings: {callbacks: ["otel"]}
        """

    @Test func collectorDownRequestsStillSucceedAndLossIsCounted() async throws {
        let env = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_BSP_MAX_QUEUE_SIZE": "1",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1",
        ]
        try await Harness.with(config: Self.config, environment: env) { h in
            for _ in 0..<20 { #expect(try await h.chat("m").status == 200) }
            try await h.eventually("drops and failed attempts on /metrics") {
                let stats = h.gateway.pipeline.stats().first
                return (stats?.dropped ?? 0) > 0 && (stats?.failedAttempts ?? 0) > 0
            }
            let metrics = try MetricsExposition(try await h.metrics())
            #expect(try metrics.value(of: "spanway_sink_dropped_total", labels: ["sink": "otlp"]) ?? 0 > 0)
            #expect(try metrics.value(of: "spanway_sink_failed_total", labels: ["sink": "otlp"]) ?? 0 > 0)
        }
    }

    @Test func exporterRetriesRetryableAnswers() async throws {
        try await Harness.with(config: Self.config) { h in
            h.receiver.failuresLeft.store(2, ordering: .relaxed)
            #expect(try await h.chat("m").status == 200)
            try await h.eventually("delivered after two 503s") { h.receiver.spans.count == 2 }
            #expect(h.receiver.attempts.load(ordering: .relaxed) == 3)
            try await h.eventually("counted as exported after two failed attempts") {
                h.gateway.pipeline.stats().first.map { $0.exported == 1 && $0.failedAttempts == 2 } ?? false
            }
        }
    }

    @Test func gracefulShutdownFinishesInFlightRequestsAndFlushes() async throws {
        let env = ["OTEL_BSP_SCHEDULE_DELAY": "60000"]
        var inFlight: Task<Harness.Reply, any Error>?
        var receiver: OTLPReceiver?
        try await Harness.with(config: Self.config, environment: env) { h in
            receiver = h.receiver
            inFlight = Task { try await h.chat("slow") }
            let slow = try #require(h.gateway.router.deployments.first { $0.config.modelName == "slow" }?.config.id)
            try await h.eventually("the slow request reached its upstream") {
                h.gateway.router.load.snapshot([slow], now: 0).inFlight == [1]
            }
            // Leaving the closure triggers graceful shutdown while the slow request is still running.
        }
        let reply = try await inFlight?.value
        #expect(reply?.status == 200)
        // The pipeline waited for the server, then flushed the span despite its 60 s batch delay.
        #expect(receiver?.spans.contains { $0.kind == .server } == true)
    }
}
