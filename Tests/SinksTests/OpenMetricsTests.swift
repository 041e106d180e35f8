import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// `/metrics` in OpenMetrics text 1.0.0 when a scraper asks for it: the same series as the 0.0.4
/// text, counters named by family, `# EOF` last, and the latency buckets carrying the trace of
/// their latest observation as an exemplar.
@Suite struct OpenMetricsTests {
    static func traceID(_ n: UInt64) -> TraceID {
        TraceID(high: 0x1000 + n, low: 0xabc0 + n) ?? FinishedSpanBuilder.traceID
    }

    /// A request of `seconds` whose one upstream call took as long, ending `end` nanoseconds after the epoch.
    static func request(_ n: UInt64, seconds: Double, sampled: Bool = true) -> FinishedSpan {
        let start = FinishedSpanBuilder.start + n * 10_000_000_000
        let end = start + UInt64(seconds * 1e9)
        var attributes = Attributes()
        attributes[AttributeName.providerName] = .string("openai")
        attributes[AttributeName.modelGroup] = .string("chat")
        return FinishedSpanBuilder(requestID: "r\(n)", traceID: traceID(n), start: start, end: end, sampled: sampled)
            .attempt(
                spanID: SpanID(0x5000 + n) ?? FinishedSpanBuilder.serverSpanID, start: start, end: end, attributes: attributes
            )
            .summary { summary in
                summary.requestModel = "chat"
                summary.modelGroup = "chat"
                summary.provider = "openai"
                summary.caller = Caller(keyAlias: "app \"1\"", teamAlias: "research")
                summary.statusCode = 200
                summary.usage = Usage(inputTokens: 10, outputTokens: 5)
                summary.costUSD = 0.25
                summary.durationSeconds = seconds
                summary.overheadSeconds = 0.0002
                summary.timeToFirstChunkSeconds = seconds / 2
            }
            .build()
    }

    static let stats = [SinkStats(sink: "otlp", exported: 3, failedAttempts: 1, dropped: 0, queueDepth: 2)]

    static func openMetrics(_ sink: PrometheusSink) throws -> OpenMetricsExposition {
        try OpenMetricsExposition(String(decoding: sink.render(sinks: stats, format: .openMetrics), as: UTF8.self))
    }

    @Test func plainTextIsTheRegistrysOwnOutputUntouched() throws {
        let sink = PrometheusSink()
        sink.observe(Self.request(1, seconds: 0.3))
        let plain = sink.render(sinks: Self.stats)
        #expect(sink.render(sinks: Self.stats, format: .prometheusText) == plain)
        var direct: [UInt8] = []
        sink.registry.emit(into: &direct)
        #expect(plain == direct, "the text format is swift-prometheus's rendering, byte for byte")
        let text = String(decoding: plain, as: UTF8.self)
        #expect(!text.contains("# EOF") && !text.contains("trace_id"))
        _ = try MetricsExposition(text)
    }

    @Test func openMetricsHasTheSameSeriesWithFamiliesAndEOF() throws {
        let sink = PrometheusSink()
        sink.observe(Self.request(1, seconds: 0.3))
        sink.observe(Self.request(2, seconds: 3))
        let text = String(decoding: sink.render(sinks: Self.stats), as: UTF8.self)
        let plain = try MetricsExposition(text)
        let open = try Self.openMetrics(sink)
        // Every series and value of the text format, nothing more.
        let key = { (name: String, labels: [String: String], value: Double) in
            "\(name)\(labels.sorted { $0.key < $1.key }) \(value)"
        }
        #expect(
            Set(open.samples.map { key($0.name, $0.labels, $0.value) })
                == Set(plain.samples.map { key($0.name, $0.labels, $0.value) }))
        #expect(open.samples.count == plain.samples.count)
        // Counters by family name; their samples keep _total.
        #expect(open.types["spanway_requests"] == "counter" && open.types["spanway_requests_total"] == nil)
        #expect(open.types["spanway_sink_exported"] == "counter")
        #expect(open.help["spanway_requests"] == plain.help["spanway_requests_total"])
        #expect(open.types["gen_ai_client_operation_duration_seconds"] == "histogram")
        #expect(open.types["spanway_sink_queue_depth"] == "gauge")
        #expect(open.samples("spanway_requests_total", matching: ["key_alias": "app \"1\""]).first?.value == 2)
    }

    @Test func latencyBucketsCarryTheirLatestTraceAsAnExemplar() throws {
        let sink = PrometheusSink()
        // 0.3 s and 0.31 s fall in the same bucket (0.16, 0.32]: the later one is kept. 3 s is in (2.56, 5.12].
        let requests = [Self.request(1, seconds: 0.3), Self.request(2, seconds: 0.31), Self.request(3, seconds: 3)]
        for request in requests { sink.observe(request) }
        let open = try Self.openMetrics(sink)
        for family in [
            "spanway_request_duration_seconds", "gen_ai_client_operation_duration_seconds",
            "gen_ai_client_operation_time_to_first_chunk_seconds", "spanway_overhead_seconds",
        ] {
            #expect(open.samples(family + "_bucket").contains { $0.exemplar != nil }, "\(family) has exemplars")
        }
        let buckets = open.samples("spanway_request_duration_seconds_bucket")
        let withExemplars = buckets.filter { $0.exemplar != nil }
        #expect(withExemplars.map { $0.labels["le"] } == ["0.32", "5.12"])
        let latest = requests[1]
        let exemplar = try #require(withExemplars.first?.exemplar)
        #expect(exemplar.labels == ["trace_id": latest.server.traceID.hex, "span_id": latest.server.spanID.hex])
        #expect(exemplar.value == 0.31)
        #expect(exemplar.timestamp == Double(latest.server.endNanos) / 1e9)
        #expect(withExemplars.last?.exemplar?.labels["trace_id"] == requests[2].server.traceID.hex)
        // The operation histogram's exemplar is the upstream call's span, in the same trace.
        let operation = try #require(
            open.samples("gen_ai_client_operation_duration_seconds_bucket", matching: ["le": "5.12"]).first?.exemplar)
        #expect(operation.labels == ["trace_id": requests[2].server.traceID.hex, "span_id": requests[2].attempts[0].spanID.hex])
        // Counters and token counts carry none.
        #expect(open.samples.filter { !$0.name.hasSuffix("_bucket") }.allSatisfy { $0.exemplar == nil })
        #expect(open.samples("gen_ai_client_token_usage_bucket").allSatisfy { $0.exemplar == nil })
    }

    @Test func unsampledTracesGiveNoExemplar() throws {
        let sink = PrometheusSink()
        sink.observe(Self.request(1, seconds: 0.3, sampled: false))
        let open = try Self.openMetrics(sink)
        #expect(open.samples("spanway_request_duration_seconds_count").first?.value == 1)
        #expect(open.samples.allSatisfy { $0.exemplar == nil })
    }

    @Test func acceptHeadersChooseTheFormat() {
        let cases: [(String?, MetricsFormat)] = [
            (nil, .prometheusText),
            ("", .prometheusText),
            ("*/*", .prometheusText),
            ("text/plain", .prometheusText),
            ("application/openmetrics-text", .openMetrics),
            // What Prometheus 2.42 sends on every scrape.
            (
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                    + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", .openMetrics
            ),
            // Prometheus 3's, with escaping= and protobuf entries.
            (
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"
                    + "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                    + "text/plain;version=0.0.4;q=0.2,*/*;q=0.1", .openMetrics
            ),
            ("text/plain;version=0.0.4;q=0.9, application/openmetrics-text;version=1.0.0;q=0.5", .prometheusText),
            ("application/openmetrics-text; version=1.0.0; q=0", .prometheusText),
            ("Application/OpenMetrics-Text ; Version=1.0.0", .openMetrics),
            // Only 1.0.0 is served: an older version alone is not it.
            ("application/openmetrics-text;version=0.0.1", .prometheusText),
            ("application/openmetrics-text;q=abc", .prometheusText),
            ("application/json", .prometheusText),
        ]
        for (accept, expected) in cases {
            #expect(MetricsFormat(accept: accept) == expected, "\(accept ?? "nil")")
        }
        #expect(MetricsFormat.openMetrics.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        #expect(MetricsFormat.prometheusText.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }

    @Test func exemplarsTakeOneSlotPerBucketOfEachSeries() {
        let store = ExemplarStore()
        let buckets = [0.1, 1.0]
        let key = PrometheusSink.SeriesKey(metric: "m", labels: ["b"])
        for n in 0..<1000 {
            let value = [0.05, 0.5, 5.0][n % 3]
            store.keep(
                Exemplar(traceID: "t\(n)", spanID: "s", value: value, timestamp: Double(n)), key: key, family: { "f" },
                labels: [("a", "b")], buckets: buckets)
        }
        let series = store.snapshot()
        #expect(series.count == 1)
        let found = series[ExemplarStore.Series(family: "f", labels: ["a": "b"])]
        #expect(found?.exemplar(upperBound: 0.1)?.traceID == "t999")
        #expect(found?.exemplar(upperBound: 1.0)?.traceID == "t997")
        #expect(found?.exemplar(upperBound: .infinity)?.traceID == "t998")
        #expect(found?.exemplar(upperBound: 0.5) == nil)
        #expect(series[ExemplarStore.Series(family: "f", labels: ["a": "c"])] == nil)
        #expect(store.count == 3)
    }
}
