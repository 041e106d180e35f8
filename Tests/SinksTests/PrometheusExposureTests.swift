import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// What `/metrics` may reveal: bounded labels, and a signal for answers nobody could price.
@Suite struct PrometheusExposureTests {
    func span(
        status: Int = 200, caller: Caller = Caller(keyHash: "k", keyAlias: "app"),
        usage: Usage? = Usage(inputTokens: 10, outputTokens: 5), cost: Double?
    ) -> FinishedSpan {
        FinishedSpanBuilder(requestID: "r", name: "POST").summary { summary in
            summary.modelGroup = "mock/*"
            summary.provider = "mock"
            summary.caller = caller
            summary.statusCode = status
            summary.usage = usage
            summary.costUSD = cost
        }
        .build()
    }

    func exposition(_ sink: PrometheusSink, exhausted: [String: Int] = [:]) throws -> MetricsExposition {
        try MetricsExposition(String(decoding: sink.render(sinks: [], exhausted: exhausted), as: UTF8.self))
    }

    @Test func answersWithUsageButNoPriceAreCountedByModelGroup() throws {
        let sink = PrometheusSink()
        sink.observe(span(cost: nil))
        sink.observe(span(cost: nil))
        sink.observe(span(cost: 0))  // priced, at 0 (a free model)
        sink.observe(span(cost: 0.01))
        sink.observe(span(usage: nil, cost: nil))  // no usage: nothing to price
        sink.observe(span(status: 502, usage: nil, cost: nil))
        let text = try exposition(sink)
        #expect(text.types["spanway_unpriced_requests_total"] == "counter")
        #expect(try text.value(of: "spanway_unpriced_requests_total", labels: ["model_group": "mock/*"]) == 2)
    }

    @Test func keysWithoutAnAliasShareOnePlaceholderNeverTheirDigest() throws {
        let digest = String(repeating: "ab", count: 32)
        let sink = PrometheusSink()
        sink.observe(span(caller: Caller(keyHash: digest, teamID: "t-1"), cost: 0.5))
        sink.observe(span(caller: Caller(keyHash: String(repeating: "cd", count: 32)), cost: 0.5))
        sink.observe(span(status: 401, caller: Caller(), usage: nil, cost: nil))
        let rendered = String(decoding: sink.render(sinks: []), as: UTF8.self)
        let text = try MetricsExposition(rendered)
        #expect(!rendered.contains(digest))
        #expect(
            try text.value(of: "spanway_requests_total", labels: ["key_alias": "unaliased", "team": "", "status_code": "200"])
                == 1)
        #expect(
            try text.value(of: "spanway_requests_total", labels: ["key_alias": "unaliased", "team": "t-1", "status_code": "200"])
                == 1)
        // A refused request had no key at all.
        #expect(try text.value(of: "spanway_requests_total", labels: ["key_alias": "", "status_code": "401"]) == 1)
    }

    @Test func exhaustedBudgetsAreCountedPerScope() throws {
        let sink = PrometheusSink()
        var text = try exposition(sink, exhausted: ["key": 2, "user": 1, "team": 0])
        #expect(text.types["spanway_budgets_exhausted"] == "gauge")
        #expect(try text.value(of: "spanway_budgets_exhausted", labels: ["scope": "key"]) == 2)
        #expect(try text.value(of: "spanway_budgets_exhausted", labels: ["scope": "user"]) == 1)
        text = try exposition(sink, exhausted: ["key": 0, "user": 0, "team": 0])
        #expect(try text.value(of: "spanway_budgets_exhausted", labels: ["scope": "key"]) == 0)
    }
}
