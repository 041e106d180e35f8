import Testing

@testable import Sinks
@testable import Telemetry

/// A strict reader of the text exposition format 0.0.4, enough to check what the sink renders.
struct Exposition {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        struct Malformed: Error { let line: String }
        #expect(text.hasSuffix("\n"))
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                help[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                continue
            }
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, types[String(parts[0])] == nil else { throw Malformed(line: String(line)) }
                types[String(parts[0])] = String(parts[1])
                continue
            }
            if line.hasPrefix("#") { continue }
            var name = Substring(line)
            var labels: [String: String] = [:]
            var rest: Substring
            if let brace = line.firstIndex(of: "{") {
                name = line[..<brace]
                guard let close = line.lastIndex(of: "}") else { throw Malformed(line: String(line)) }
                for pair in line[line.index(after: brace)..<close].split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    guard kv.count == 2, kv[1].hasPrefix("\""), kv[1].hasSuffix("\"") else { throw Malformed(line: String(line)) }
                    labels[String(kv[0])] = String(kv[1].dropFirst().dropLast())
                }
                rest = line[line.index(after: close)...]
            } else {
                let parts = line.split(separator: " ", maxSplits: 1)
                name = parts[0]
                rest = parts.count > 1 ? parts[1] : ""
            }
            let text = rest.trimmingCharacters(in: .whitespaces)
            guard let value = Double(text == "+Inf" ? "inf" : text) else { throw Malformed(line: String(line)) }
            let family = ["_bucket", "_sum", "_count"].reduce(String(name)) { n, s in
                n.hasSuffix(s) && types[String(n.dropLast(s.count))] == "histogram" ? String(n.dropLast(s.count)) : n
            }
            guard types[family] != nil else { throw Malformed(line: "sample before its TYPE: \(line)") }
            samples.append(Sample(name: String(name), labels: labels, value: value))
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }
}

import Foundation

@Suite struct PrometheusSinkTests {
    func request(status: Int = 200, usage: Usage? = Usage(inputTokens: 100, outputTokens: 20, cacheReadTokens: 30),
        cost: Double? = 0.5, ttfc: Double? = nil, team: String? = "research") -> FinishedSpan
    {
        var summary = RequestSummary(requestID: "r", operation: "chat")
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
        let server = Span(name: "POST", kind: .server, parent: nil).end()
        return FinishedSpan(server: server, attempts: [], summary: summary)
    }

    @Test func renderedTextParsesBackWithTheContractNames() throws {
        let sink = PrometheusSink()
        sink.observe(request())
        sink.observe(request(ttfc: 0.05))
        sink.observe(request(status: 429, usage: nil, cost: nil))
        let text = String(decoding: sink.render(sinks: [SinkStats(sink: "otlp", exported: 7, failedAttempts: 2, dropped: 3, queueDepth: 1)]), as: UTF8.self)
        let exposition = try Exposition(text)
        let owner = ["model_group": "gpt-4o-mini", "provider": "openai", "team": "research", "key_alias": "app-1"]

        #expect(exposition.types["spanway_requests_total"] == "counter")
        #expect(exposition.value("spanway_requests_total", owner.merging(["status_code": "200"]) { $1 }) == 2)
        #expect(exposition.value("spanway_requests_total", owner.merging(["status_code": "429"]) { $1 }) == 1)
        #expect(exposition.value("spanway_tokens_total", owner.merging(["type": "input"]) { $1 }) == 200)
        #expect(exposition.value("spanway_tokens_total", owner.merging(["type": "cache_read"]) { $1 }) == 60)
        #expect(exposition.value("spanway_tokens_total", ["type": "reasoning"]) == nil)
        #expect(exposition.value("spanway_spend_usd_total", owner) == 1.0)
        #expect(exposition.types["gen_ai_client_operation_duration_seconds"] == "histogram")
        #expect(exposition.types["gen_ai_client_token_usage"] == "histogram")
        #expect(exposition.value("gen_ai_client_token_usage_sum", ["gen_ai_token_type": "output"]) == 40)
        #expect(exposition.value("gen_ai_client_operation_time_to_first_chunk_seconds_count") == 1)
        #expect(exposition.value("gen_ai_client_operation_duration_seconds_count", ["error_type": "429"]) == 1)
        #expect(exposition.value("spanway_overhead_seconds_count") == 3)
        #expect(exposition.value("spanway_sink_exported_total", ["sink": "otlp"]) == 7)
        #expect(exposition.value("spanway_sink_failed_total", ["sink": "otlp"]) == 2)
        #expect(exposition.value("spanway_sink_dropped_total", ["sink": "otlp"]) == 3)
        #expect(exposition.value("spanway_sink_queue_depth", ["sink": "otlp"]) == 1)
        for name in exposition.types.keys { #expect(exposition.help[name] != nil, "\(name) has no HELP") }
    }

    @Test func histogramsUseTheSemconvBucketsCumulativelyWithInf() throws {
        let sink = PrometheusSink()
        sink.observe(request())
        let exposition = try Exposition(String(decoding: sink.render(sinks: []), as: UTF8.self))
        let buckets = exposition.samples.filter { $0.name == "gen_ai_client_operation_duration_seconds_bucket" }
        let bounds = buckets.compactMap { Double($0.labels["le"] == "+Inf" ? "inf" : $0.labels["le"] ?? "") }
        #expect(Array(bounds.dropLast()) == PrometheusSink.durationBuckets)
        #expect(bounds.last == .infinity)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value })
        #expect(buckets.last?.value == exposition.value("gen_ai_client_operation_duration_seconds_count"))
        #expect(exposition.value("gen_ai_client_operation_duration_seconds_bucket", ["le": "0.16"]) == 0)
        #expect(exposition.value("gen_ai_client_operation_duration_seconds_bucket", ["le": "0.32"]) == 1)
    }

    @Test func sinkCountersStayCorrectAcrossScrapes() throws {
        let sink = PrometheusSink()
        _ = sink.render(sinks: [SinkStats(sink: "otlp", exported: 5, failedAttempts: 0, dropped: 0, queueDepth: 0)])
        let text = String(decoding: sink.render(sinks: [SinkStats(sink: "otlp", exported: 9, failedAttempts: 0, dropped: 0, queueDepth: 0)]), as: UTF8.self)
        #expect(try Exposition(text).value("spanway_sink_exported_total", ["sink": "otlp"]) == 9)
    }

    @Test func budgetGaugesFollowTheFiguresAndForgetDeletedOnes() throws {
        let sink = PrometheusSink()
        let figures = [
            PrometheusSink.BudgetFigure(scope: "key", name: "billing-app", remaining: 8.5),
            PrometheusSink.BudgetFigure(scope: "team", name: "research", remaining: -0.25),
        ]
        var exposition = try Exposition(String(decoding: sink.render(sinks: [], budgets: figures), as: UTF8.self))
        #expect(exposition.types["spanway_budget_remaining_usd"] == "gauge")
        #expect(exposition.value("spanway_budget_remaining_usd", ["scope": "key", "name": "billing-app"]) == 8.5)
        #expect(exposition.value("spanway_budget_remaining_usd", ["scope": "team", "name": "research"]) == -0.25)
        exposition = try Exposition(String(decoding: sink.render(sinks: [], budgets: [figures[1]]), as: UTF8.self))
        #expect(exposition.value("spanway_budget_remaining_usd", ["scope": "key", "name": "billing-app"]) == nil)
        #expect(exposition.value("spanway_budget_remaining_usd", ["scope": "team", "name": "research"]) == -0.25)
    }

    @Test func refusedBeforeRoutingCountsTheRequestButNoGenAIOperation() throws {
        var summary = RequestSummary(requestID: "r", operation: "chat")
        summary.statusCode = 401
        let sink = PrometheusSink()
        sink.observe(FinishedSpan(server: Span(name: "x", kind: .server, parent: nil).end(), attempts: [], summary: summary))
        let exposition = try Exposition(String(decoding: sink.render(sinks: []), as: UTF8.self))
        #expect(exposition.value("spanway_requests_total", ["status_code": "401", "model_group": ""]) == 1)
        #expect(exposition.value("gen_ai_client_operation_duration_seconds_count") == nil)
    }
}
