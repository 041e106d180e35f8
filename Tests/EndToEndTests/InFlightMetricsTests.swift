import GatewayTesting
import Testing

/// `spanway_requests_in_flight` counts each request in when it arrives and out when it settles,
/// however it ends; the process series come with every scrape.
@Suite(.timeLimit(.minutes(3))) struct InFlightMetricsTests {
    @Test func everyRequestIsCountedOutWhenItSettles() async throws {
        let config = """
            model_list:
              - model_name: ok
                litellm_params: {model: mock/gpt-4o-mini}
              - model_name: broken
                litellm_params: {model: mock/error-500}
            router_settings: {num_retries: 0}
            general_settings: {master_key: sk-e2e-master}
            """
        try await Harness.with(config: config, otlp: false) { h in
            #expect(try await h.chat("ok").status == 200)
            #expect(try await h.chat("ok", stream: true).status == 200)
            #expect(try await h.chat("broken").status >= 500)
            #expect(try await h.chat("missing").status == 404)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"ok","messages":[]}"#, key: "sk-not-a-key"
                ).status == 401)
            let metrics = try await h.exposition()
            #expect(try metrics.value(of: "spanway_requests_in_flight") == 0)
            #expect(try (metrics.value(of: "process_resident_memory_bytes") ?? 0) > 0)
            #expect(try (metrics.value(of: "process_cpu_seconds_total") ?? 0) > 0)
        }
    }
}
