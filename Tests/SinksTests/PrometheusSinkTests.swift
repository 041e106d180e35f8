import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

@Suite struct PrometheusSinkTests {
    func request(
        status: Int = 200, usage: Usage? = Usage(inputTokens: 100, outputTokens: 20, cacheReadTokens: 30),
        cost: Double? = 0.5, ttfc: Double? = nil, team: String? = "research"
    ) -> FinishedSpan {
        // One upstream call of 0.3 s, failed with the request's error type when the request failed.
        var attempt = Attributes()
        attempt[AttributeName.providerName] = .string("openai")
        attempt[AttributeName.modelGroup] = .string("gpt-4o-mini")
        if status != 200 { attempt[AttributeName.errorType] = .string(String(status)) }
        let start = FinishedSpanBuilder.start + 100_000_000
        return FinishedSpanBuilder(requestID: "r")
            .attempt(
                start: start, end: start + 300_000_000, attributes: attempt,
                status: status == 200 ? .ok : .error(message: "failed")
            )
            .summary { summary in
                summary.modelGroup = "gpt-4o-mini"
                summary.provider = "openai"
                summary.caller = Caller(keyAlias: "app-1", teamAlias: team)
                summary.statusCode = status
                summary.errorType = status == 200 ? nil : String(status)
                summary.usage = usage
                summary.costUSD = cost
                summary.durationSeconds = 0.3
                summary.overheadSeconds = 0.0002
                summary.timeToFirstChunkSeconds = ttfc
            }
            .build()
    }

    @Test func renderedTextParsesBackWithTheContractNames() throws {
        let sink = PrometheusSink()
        sink.observe(request())
        sink.observe(request(ttfc: 0.05))
        sink.observe(request(status: 429, usage: nil, cost: nil))
        let text = String(
            decoding: sink.render(sinks: [SinkStats(sink: "otlp", exported: 7, failedAttempts: 2, dropped: 3, queueDepth: 1)]),
            as: UTF8.self)
        let exposition = try MetricsExposition(text)
        let owner = ["model_group": "gpt-4o-mini", "provider": "openai", "team": "research", "key_alias": "app-1"]

        #expect(exposition.types["spanway_requests_total"] == "counter")
        #expect(try exposition.value(of: "spanway_requests_total", labels: owner.merging(["status_code": "200"]) { $1 }) == 2)
        #expect(try exposition.value(of: "spanway_requests_total", labels: owner.merging(["status_code": "429"]) { $1 }) == 1)
        #expect(try exposition.value(of: "spanway_tokens_total", labels: owner.merging(["type": "input"]) { $1 }) == 200)
        #expect(try exposition.value(of: "spanway_tokens_total", labels: owner.merging(["type": "cache_read"]) { $1 }) == 60)
        #expect(try exposition.value(of: "spanway_tokens_total", labels: ["type": "reasoning"]) == nil)
        #expect(try exposition.value(of: "spanway_spend_usd_total", labels: owner) == 1.0)
        #expect(exposition.types["gen_ai_client_operation_duration_seconds"] == "histogram")
        #expect(exposition.types["gen_ai_client_token_usage"] == "histogram")
        #expect(try exposition.value(of: "gen_ai_client_token_usage_sum", labels: ["gen_ai_token_type": "output"]) == 40)
        #expect(try exposition.value(of: "gen_ai_client_operation_time_to_first_chunk_seconds_count") == 1)
        #expect(try exposition.value(of: "gen_ai_client_operation_duration_seconds_count", labels: ["error_type": "429"]) == 1)
        #expect(try exposition.value(of: "spanway_overhead_seconds_count") == 3)
        #expect(try exposition.value(of: "spanway_sink_exported_total", labels: ["sink": "otlp"]) == 7)
        #expect(try exposition.value(of: "spanway_sink_failed_total", labels: ["sink": "otlp"]) == 2)
        #expect(try exposition.value(of: "spanway_sink_dropped_total", labels: ["sink": "otlp"]) == 3)
        #expect(try exposition.value(of: "spanway_sink_queue_depth", labels: ["sink": "otlp"]) == 1)
        for name in exposition.types.keys { #expect(exposition.help[name] != nil, "\(name) has no HELP") }
    }

    /// The explicit bucket boundaries the GenAI semantic conventions (v1.41) give for
    /// `gen_ai.client.operation.duration` and `gen_ai.client.operation.time_to_first_chunk`, and for
    /// `gen_ai.client.token.usage`: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/
    static let semconvDurationBuckets: [Double] = [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ]
    static let semconvTokenBuckets: [Double] = [
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
    ]

    @Test func histogramsUseTheSemconvBucketsCumulativelyWithInf() throws {
        let sink = PrometheusSink()
        sink.observe(request(ttfc: 0.05))
        let exposition = try MetricsExposition(String(decoding: sink.render(sinks: []), as: UTF8.self))
        let bounds = { (histogram: String, labels: [String: String]) in
            exposition.buckets(of: histogram, labels: labels).map(\.upperBound).dropLast()
        }
        #expect(Array(bounds("gen_ai_client_operation_time_to_first_chunk_seconds", [:])) == Self.semconvDurationBuckets)
        #expect(Array(bounds("gen_ai_client_token_usage", ["gen_ai_token_type": "input"])) == Self.semconvTokenBuckets)
        let buckets = exposition.buckets(of: "gen_ai_client_operation_duration_seconds")
        #expect(Array(buckets.map(\.upperBound).dropLast()) == Self.semconvDurationBuckets)
        #expect(buckets.last?.upperBound == .infinity)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.count <= $1.count })
        #expect(try buckets.last?.count == exposition.value(of: "gen_ai_client_operation_duration_seconds_count"))
        #expect(try exposition.value(of: "gen_ai_client_operation_duration_seconds_bucket", labels: ["le": "0.16"]) == 0)
        #expect(try exposition.value(of: "gen_ai_client_operation_duration_seconds_bucket", labels: ["le": "0.32"]) == 1)
    }

    @Test func sinkCountersStayCorrectAcrossScrapes() throws {
        let sink = PrometheusSink()
        _ = sink.render(sinks: [SinkStats(sink: "otlp", exported: 5, failedAttempts: 0, dropped: 0, queueDepth: 0)])
        let text = String(
            decoding: sink.render(sinks: [SinkStats(sink: "otlp", exported: 9, failedAttempts: 0, dropped: 0, queueDepth: 0)]),
            as: UTF8.self)
        #expect(try MetricsExposition(text).value(of: "spanway_sink_exported_total", labels: ["sink": "otlp"]) == 9)
    }

    @Test func budgetGaugesFollowTheFiguresAndForgetDeletedOnes() throws {
        let sink = PrometheusSink()
        let figures = [
            PrometheusSink.BudgetFigure(scope: "key", name: "billing-app", remaining: 8.5),
            PrometheusSink.BudgetFigure(scope: "team", name: "research", remaining: -0.25),
        ]
        var exposition = try MetricsExposition(String(decoding: sink.render(sinks: [], budgets: figures), as: UTF8.self))
        #expect(exposition.types["spanway_budget_remaining_usd"] == "gauge")
        #expect(try exposition.value(of: "spanway_budget_remaining_usd", labels: ["scope": "key", "name": "billing-app"]) == 8.5)
        #expect(try exposition.value(of: "spanway_budget_remaining_usd", labels: ["scope": "team", "name": "research"]) == -0.25)
        exposition = try MetricsExposition(String(decoding: sink.render(sinks: [], budgets: [figures[1]]), as: UTF8.self))
        #expect(try exposition.value(of: "spanway_budget_remaining_usd", labels: ["scope": "key", "name": "billing-app"]) == nil)
        #expect(try exposition.value(of: "spanway_budget_remaining_usd", labels: ["scope": "team", "name": "research"]) == -0.25)
    }

    @Test func refusedBeforeRoutingCountsTheRequestButNoGenAIOperation() throws {
        let sink = PrometheusSink()
        sink.observe(FinishedSpanBuilder(requestID: "r").summary { $0.statusCode = 401 }.build())
        let exposition = try MetricsExposition(String(decoding: sink.render(sinks: []), as: UTF8.self))
        #expect(try exposition.value(of: "spanway_requests_total", labels: ["status_code": "401", "model_group": ""]) == 1)
        #expect(try exposition.value(of: "gen_ai_client_operation_duration_seconds_count") == nil)
    }
}
