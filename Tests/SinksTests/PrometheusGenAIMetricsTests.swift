import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// What the GenAI histograms say: `gen_ai_request_model` is the model the client asked for (as on
/// the spans), the model group has its own label, and every upstream call is an operation,
/// failed and retried ones included, each with its own error type.
@Suite struct PrometheusGenAIMetricsTests {
    struct Call {
        var group: String
        var provider: String
        var errorType: String?
        var millis: UInt64
    }

    /// A request for `model` whose upstream calls were `calls`, in order, back to back; it
    /// succeeded when the last call did.
    static func request(model: String, calls: [Call], sampled: Bool = true, ttfc: Double? = nil) -> FinishedSpan {
        var builder = FinishedSpanBuilder(requestID: "r", sampled: sampled)
        var start = FinishedSpanBuilder.start
        for call in calls {
            var attributes = Attributes()
            attributes[AttributeName.providerName] = .string(call.provider)
            attributes[AttributeName.modelGroup] = .string(call.group)
            attributes[AttributeName.requestModel] = .string(model)
            if let type = call.errorType { attributes[AttributeName.errorType] = .string(type) }
            let end = start + call.millis * 1_000_000
            builder = builder.attempt(
                start: start, end: end, attributes: attributes,
                status: call.errorType == nil ? .ok : .error(message: "failed"))
            start = end
        }
        let last = calls.last
        return builder.summary { summary in
            summary.requestModel = model
            summary.modelGroup = last?.group
            summary.provider = last?.provider
            summary.attempts = calls.count
            summary.statusCode = last?.errorType == nil ? 200 : 503
            summary.errorType = last?.errorType
            summary.usage = last?.errorType == nil ? Usage(inputTokens: 10, outputTokens: 5) : nil
            summary.durationSeconds = Double(calls.reduce(0) { $0 + $1.millis }) / 1000
            summary.timeToFirstChunkSeconds = ttfc
        }
        .build()
    }

    static func exposition(_ sink: PrometheusSink) throws -> MetricsExposition {
        try MetricsExposition(String(decoding: sink.render(sinks: []), as: UTF8.self))
    }

    @Test func requestModelIsTheClientsNameAndTheGroupHasItsOwnLabel() throws {
        let sink = PrometheusSink()
        // "fast" is an alias of the group "gpt-4o-mini".
        sink.observe(Self.request(model: "fast", calls: [Call(group: "gpt-4o-mini", provider: "openai", millis: 300)], ttfc: 0.1))
        let exposition = try Self.exposition(sink)
        let labels = ["gen_ai_request_model": "fast", "model_group": "gpt-4o-mini", "gen_ai_provider_name": "openai"]
        #expect(try exposition.value(of: "gen_ai_client_operation_duration_seconds_count", labels: labels) == 1)
        #expect(try exposition.value(of: "gen_ai_client_operation_time_to_first_chunk_seconds_count", labels: labels) == 1)
        #expect(
            try exposition.value(
                of: "gen_ai_client_token_usage_sum", labels: labels.merging(["gen_ai_token_type": "input"]) { $1 })
                == 10)
        // The group's name is never passed off as the requested model.
        for name in [
            "gen_ai_client_operation_duration_seconds_count", "gen_ai_client_operation_time_to_first_chunk_seconds_count",
            "gen_ai_client_token_usage_count",
        ] {
            #expect(exposition.samples(name, matching: ["gen_ai_request_model": "gpt-4o-mini"]).isEmpty, "\(name)")
        }
        // The gateway's own series keep the group.
        #expect(exposition.samples("spanway_requests_total", matching: ["model_group": "gpt-4o-mini"]).count == 1)
    }

    @Test func everyUpstreamCallIsAnOperationWithItsOwnErrorType() throws {
        let sink = PrometheusSink()
        // Two failed calls to the primary group (a 500, then a retry rate limited), then its fallback answered.
        let calls = [
            Call(group: "primary", provider: "openai", errorType: "upstream_error", millis: 50),
            Call(group: "primary", provider: "openai", errorType: "rate_limited", millis: 100),
            Call(group: "backup", provider: "anthropic", millis: 700),
        ]
        sink.observe(Self.request(model: "primary", calls: calls))
        let exposition = try Self.exposition(sink)
        let name = "gen_ai_client_operation_duration_seconds"
        #expect(exposition.samples(name + "_count").map(\.value).reduce(0, +) == 3)
        for call in calls {
            let labels = [
                "gen_ai_request_model": "primary", "model_group": call.group, "gen_ai_provider_name": call.provider,
                "error_type": call.errorType ?? "",
            ]
            #expect(try exposition.value(of: name + "_count", labels: labels) == 1, "\(labels)")
            let sum = try #require(try exposition.value(of: name + "_sum", labels: labels))
            #expect(abs(sum - Double(call.millis) / 1000) < 1e-9, "\(labels): \(sum)")
        }
        #expect(try exposition.value(of: "spanway_retries_total", labels: ["model_group": "backup"]) == 2)
    }

    @Test func requestModelLabelsAreBoundedForWildcardRoutes() throws {
        let sink = PrometheusSink(requestModelLimit: 2)
        for model in ["mock/a", "mock/b", "mock/c", "mock/a"] {
            sink.observe(Self.request(model: model, calls: [Call(group: "mock/*", provider: "openai", millis: 10)]))
        }
        let exposition = try Self.exposition(sink)
        let count = { (model: String) in
            try exposition.value(of: "gen_ai_client_operation_duration_seconds_count", labels: ["gen_ai_request_model": model])
        }
        #expect(try count("mock/a") == 2)
        #expect(try count("mock/b") == 1)
        // Past the limit a new name is counted under its group.
        #expect(try count("mock/c") == nil)
        #expect(try count("mock/*") == 1)
    }
}
