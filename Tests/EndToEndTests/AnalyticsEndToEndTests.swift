import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

@testable import Proxy

let analyticsConfig = """
    model_list:
      - model_name: fast
        litellm_params: {model: openai/slow-40, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY,
          input_cost_per_token: 0.000001, output_cost_per_token: 0.000004, tags: [batch, default]}
      - model_name: steady
        litellm_params: {model: anthropic/claude-slow-150, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY,
          input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}
      - model_name: broken
        litellm_params: {model: openai/error-500, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
      - model_name: flaky
        litellm_params: {model: openai/error-503, api_base: "{upstream}", api_key: os.environ/E2E_UPSTREAM_KEY}
    router_settings:
      num_retries: 0
      fallbacks: [{flaky: [fast]}]
    general_settings:
      master_key: sk-e2e-master
    """

/// `GET /spanway/analytics` over traffic the test sends through the gateway to mock upstreams
/// with fixed delays: counts, errors, tokens and cost agree with the replies; latency fields are
/// filled and ordered; the percentiles equal the ones the test computes itself from the ledger's
/// rows with the same definition.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AnalyticsEndToEndTests {
    /// What the test saw of its own requests, per team.
    struct Sent {
        var requests = 0
        var failed = 0
        var inputTokens = 0
        var outputTokens = 0
        var cost = 0.0
    }

    /// Type 7 (numpy's default), written out here so the test does not trust the code under test.
    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        let h = Double(sorted.count - 1) * p
        let low = Int(h)
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (h - Double(low)) * (sorted[high] - sorted[low])
    }

    /// Prompt and completion tokens of a JSON reply, or of the usage chunk of a stream.
    static func usage(_ reply: GatewayClient.Reply) -> (Int, Int) {
        let objects =
            reply.json.map { [$0] }
            ?? reply.text.split(separator: "\n").compactMap { line -> JSONValue? in
                guard line.hasPrefix("data: {") else { return nil }
                return try? JSONParser.parse(Array(line.dropFirst(6).utf8))
            }
        for object in objects.reversed() {
            if let usage = object["usage"], usage != .null {
                return (usage["prompt_tokens"]?.intValue ?? 0, usage["completion_tokens"]?.intValue ?? 0)
            }
        }
        return (0, 0)
    }

    @Test func analyticsAgreeWithTheTrafficSent() async throws {
        try await Harness.with(config: analyticsConfig) { h in
            for team in ["research", "ops"] {
                #expect(try await h.send("/team/new", json: #"{"team_id":"\#(team)"}"#).status == 200)
            }
            let research = try await h.newKey(#"{"team_id":"research","key_alias":"nb"}"#)
            let ops = try await h.newKey(#"{"team_id":"ops","key_alias":"cron"}"#)
            var sent: [String: Sent] = [:]
            func ask(_ team: String, key: String, model: String, stream: Bool = false, tags: String? = nil) async throws {
                var body = #"{"model":"\#(model)","messages":[{"role":"user","content":"Say hello"}]"#
                if stream { body += #","stream":true,"stream_options":{"include_usage":true}"# }
                let reply = try await h.send(
                    "/v1/chat/completions", json: body + "}", key: key, headers: tags.map { [("x-spanway-tags", $0)] } ?? [])
                let (input, output) = Self.usage(reply)
                sent[team, default: Sent()].requests += 1
                if reply.status != 200 { sent[team, default: Sent()].failed += 1 }
                sent[team, default: Sent()].inputTokens += input
                sent[team, default: Sent()].outputTokens += output
                // The configured prices of the deployment that answers (flaky falls back to fast);
                // streamed answers carry no cost header, so the test prices the usage itself.
                let prices = ["fast": (1e-6, 4e-6), "flaky": (1e-6, 4e-6), "steady": (3e-6, 15e-6)][model] ?? (0, 0)
                sent[team, default: Sent()].cost += Double(input) * prices.0 + Double(output) * prices.1
            }
            for _ in 0..<4 { try await ask("research", key: research, model: "fast") }
            for _ in 0..<2 { try await ask("research", key: research, model: "fast", stream: true, tags: "batch") }
            try await ask("research", key: research, model: "flaky")
            for _ in 0..<3 { try await ask("ops", key: ops, model: "steady") }
            for _ in 0..<2 { try await ask("ops", key: ops, model: "broken") }
            #expect(sent["research"]?.failed == 0 && sent["ops"]?.failed == 2)
            #expect((sent["research"]?.outputTokens ?? 0) > 0 && (sent["ops"]?.cost ?? 0) > 0)

            let reply = try await h.send("/spanway/analytics?window=1h&group_by=team&compare=true")
            #expect(reply.status == 200 && reply.headers.first(name: "content-type") == "application/json")
            let json = try #require(reply.json)
            let groups = try #require(json["groups"]?.arrayValue)
            #expect(groups.count == 2)
            let rows = try await h.store.spendLogs(SpendQuery(limit: 1000))
            #expect(rows.count == 12)
            for (team, expected) in sent {
                let group = try #require(groups.first { $0["keys"]?["team"]?.stringValue == team }, "\(team)")
                #expect(group["requests"]?.intValue == expected.requests, "\(team)")
                #expect(group["errors"]?.intValue == expected.failed, "\(team)")
                #expect(group["error_rate"]?.doubleValue == Double(expected.failed) / Double(expected.requests))
                let kinds = group["errors_by_kind"]?.objectValue?.members.map { $0.value.intValue ?? 0 } ?? []
                #expect(kinds.reduce(0, +) == expected.failed)
                #expect(group["input_tokens"]?.intValue == expected.inputTokens, "\(team)")
                #expect(group["output_tokens"]?.intValue == expected.outputTokens, "\(team)")
                #expect(abs((group["spend"]?.doubleValue ?? -1) - expected.cost) < 1e-12, "\(team)")
                let perMillion = expected.cost / Double(expected.inputTokens + expected.outputTokens) * 1e6
                #expect(abs((group["cost_per_million_tokens"]?.doubleValue ?? -1) - perMillion) < 1e-9)
                // The previous hour had no traffic.
                #expect(group["previous"] == .null)

                // Latencies: filled, ordered, at least the mock's fixed delay, and exactly the
                // percentiles of the rows' own latencies.
                let mine = rows.filter { $0.teamID == team }
                let latencies = mine.compactMap(\.latencyMs)
                #expect(latencies.count == expected.requests)
                for row in mine {
                    let (latency, upstream, overhead) = (row.latencyMs ?? -1, row.upstreamLatencyMs ?? -1, row.overheadMs ?? -1)
                    #expect(upstream >= 0 && overhead >= 0 && abs(latency - upstream - overhead) < 1e-6)
                    #expect((row.attempts ?? 0) >= 1 && row.fallbackDepth != nil)
                }
                let p50 = try #require(group["latency_ms"]?["p50"]?.doubleValue)
                let p95 = try #require(group["latency_ms"]?["p95"]?.doubleValue)
                let p99 = try #require(group["latency_ms"]?["p99"]?.doubleValue)
                #expect(p50 <= p95 && p95 <= p99)
                for (value, p) in [(p50, 0.5), (p95, 0.95), (p99, 0.99)] {
                    #expect(abs(value - (Self.percentile(latencies, p) ?? -1)) < 1e-9, "p\(p) of \(team)")
                }
                #expect(
                    abs(
                        (group["overhead_ms"]?["p50"]?.doubleValue ?? -1)
                            - (Self.percentile(mine.compactMap(\.overheadMs), 0.5) ?? -2))
                        < 1e-9)
                // Successful requests: generation time is upstream time less time to first token.
                let answered = mine.filter { $0.statusCode == 200 && $0.outputTokens > 0 }
                let generation = answered.reduce(0.0) { $0 + ($1.upstreamLatencyMs ?? 0) - ($1.timeToFirstTokenMs ?? 0) }
                let tokensPerSecond = Double(answered.reduce(0) { $0 + $1.outputTokens }) / (generation / 1000)
                #expect(abs((group["output_tokens_per_second"]?.doubleValue ?? -1) - tokensPerSecond) < 1e-6)
            }
            let researchGroup = try #require(groups.first { $0["keys"]?["team"] == "research" })
            // fast sleeps 40 ms before answering, steady 150 ms (three of ops's five requests).
            #expect((researchGroup["latency_ms"]?["p50"]?.doubleValue ?? 0) >= 40)
            let opsGroup = try #require(groups.first { $0["keys"]?["team"] == "ops" })
            #expect((opsGroup["latency_ms"]?["p50"]?.doubleValue ?? 0) >= 150)
            #expect(researchGroup["fallbacks"]?.intValue == 1 && opsGroup["fallbacks"]?.intValue == 0)
            // Two streamed requests measured a time to first token, no longer than their latency.
            let ttft = rows.compactMap(\.timeToFirstTokenMs)
            #expect(ttft.count == 2)
            #expect(
                abs((researchGroup["time_to_first_token_ms"]?["p50"]?.doubleValue ?? -1) - (Self.percentile(ttft, 0.5) ?? -2))
                    < 1e-9)
            #expect(opsGroup["time_to_first_token_ms"]?["p50"] == .null)
            #expect(json["total"]?["requests"]?.intValue == 12 && json["previous"]?["total"]?["requests"]?.intValue == 0)

            // Other groupings over the same rows.
            let byProvider = try #require(
                try await h.send("/spanway/analytics?window=1h&group_by=provider").json?["groups"]?.arrayValue)
            let providers = Dictionary(
                uniqueKeysWithValues: byProvider.map {
                    ($0["keys"]?["provider"]?.stringValue ?? "?", $0["requests"]?.intValue ?? 0)
                })
            #expect(providers == ["openai": 9, "anthropic": 3])
            let byTag = try #require(
                try await h.send("/spanway/analytics?window=1h&group_by=tag,model_group").json?["groups"]?.arrayValue)
            #expect(byTag.first { $0["keys"]?["tag"] == "batch" }?["requests"]?.intValue == 2)

            // The other formats, and the refusals.
            let csv = try await h.send("/spanway/analytics?window=1h&group_by=team&format=csv")
            #expect(csv.headers.first(name: "content-type")?.hasPrefix("text/csv") == true)
            #expect(csv.text.split(separator: "\r\n").count == 4)  // header, two teams, total
            let html = try await h.send("/spanway/analytics?window=1h&group_by=team&format=html")
            #expect(html.headers.first(name: "content-type")?.hasPrefix("text/html") == true)
            #expect(html.text.components(separatedBy: "<tr data-group=").count - 1 == 2)
            let table = try await h.send("/spanway/analytics?group_by=team&format=table")
            #expect(table.text.contains("research") && table.text.contains("ops"))
            #expect(try await h.send("/spanway/analytics", key: research).status == 403)
            #expect(try await h.send("/spanway/analytics", key: nil).status == 401)
            #expect(try await h.send("/spanway/analytics?group_by=colour").json?["error"]?["param"] == "group_by")
            #expect(try await h.send("/spanway/analytics?format=pdf").json?["error"]?["param"] == "format")
            #expect(try await h.send("/spanway/analytics?who=me").status == 400)

            // The new ledger fields are on /spend/logs too.
            let logs = try #require(try await h.send("/spend/logs?team_id=research").json?.arrayValue)
            #expect(logs.count == 7 && logs.allSatisfy { ($0["latency_ms"]?.doubleValue ?? -1) >= 40 })
            #expect(logs.filter { $0["tags"] == .array(["batch"]) }.count == 2)
            #expect(logs.filter { $0["fallback_depth"]?.intValue == 1 && $0["attempts"]?.intValue == 2 }.count == 1)
        }
    }

    /// `spend_logs_retention` reaches the ledger: after the next batch, rows older than it are
    /// gone (the store's tests show the daily rollups keep them), and reports over raw rows no
    /// longer see them.
    @Test func retentionPrunesOldRowsAfterTheNextBatch() async throws {
        let config = analyticsConfig + "\nspanway_settings: {spend_logs_retention: 7d}\n"
        try await Harness.with(config: config) { h in
            let old = SpendRow(
                requestID: "ancient", traceID: "t", startTime: 1_000_000_000_000, endTime: 1_000_000_000_001,
                operation: "chat", inputTokens: 3, spend: 0.5, statusCode: 200)
            try await h.database.recordSpend([old])
            #expect(
                try await h.send("/v1/chat/completions", json: #"{"model":"fast","messages":[{"role":"user","content":"x"}]}"#)
                    .status == 200)
            let rows = try await h.store.spendLogs(SpendQuery(limit: 10))
            #expect(rows.count == 1 && rows.first?.requestID != "ancient")
            let byDay = try await h.send("/global/spend/report?group_by=day").json?.arrayValue ?? []
            #expect(byDay.count == 1)
        }
    }
}
