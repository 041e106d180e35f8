import Foundation
import GatewayTesting
import Store
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// Issue 11, "What telemetry may reveal": who may scrape `/metrics`, what its labels may say, the
/// master key's digest, and answers that could not be priced. The gateway runs in-process on real
/// sockets.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MetricsExposureTests {
    static let models = """
        model_list:
          - model_name: local
            litellm_params: {model: mock/gpt-4o-mini}
          - model_name: "mock/*"
            litellm_params: {model: "mock/*"}
        general_settings: {master_key: sk-e2e-master}

        """

    // MARK: - Who may scrape

    @Test func requireAuthForMetricsTakesTheMasterKeyOnly() async throws {
        let config = Self.models.replacingOccurrences(
            of: "{master_key: sk-e2e-master}", with: "{master_key: sk-e2e-master, require_auth_for_metrics_endpoint: true}")
        try await Harness.with(config: config) { h in
            let key = try #require(try await h.send("/key/generate", json: #"{"key_alias":"app"}"#).json?["key"]?.stringValue)
            for refused in [nil, key, "sk-e2e-maste"] {
                let reply = try await h.send("/metrics", key: refused)
                #expect(reply.status == 401)
                #expect(reply.json?["error"]?["type"] == "authentication_error")
                #expect(
                    reply.json?["error"]?["message"]?.stringValue?.hasPrefix("Unauthorized access to metrics endpoint: ") == true)
                #expect(!reply.text.contains("spanway_"))
            }
            let allowed = try await h.send("/metrics", key: Harness.master)
            #expect(allowed.status == 200 && allowed.text.contains("spanway_sink_queue_depth"))
        }
    }

    @Test func aScraperTokenOpensMetricsAndNothingElse() async throws {
        let token = "scrape-token-0123456789"
        try await Harness.with(config: Self.models, environment: ["SPANWAY_METRICS_TOKEN": token]) { h throws in
            #expect(try await h.send("/metrics", key: nil).status == 401, "the token alone closes /metrics")
            #expect(try await h.send("/metrics", key: token).status == 200)
            #expect(try await h.send("/metrics", key: Harness.master).status == 200)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#, key: token
                ).status == 401)
            #expect(try await h.send("/key/list", key: token).status != 200)
            #expect(try await h.send("/v1/models", key: token).status == 401)
        }
    }

    @Test func metricsStayOpenByDefault() async throws {
        try await Harness.with(config: Self.models) { h throws in
            #expect(try await h.send("/metrics", key: nil).status == 200)
        }
    }

    // MARK: - What the labels say

    @Test func labelsNameAliasesNeverUserIdsOrDigests() async throws {
        try await Harness.with(config: Self.models) { h in
            #expect(
                try await h.send("/team/new", json: #"{"team_id":"t-research","team_alias":"Research","max_budget":10}"#).status
                    == 200)
            #expect(try await h.send("/user/new", json: #"{"user_id":"bob@corp.example","max_budget":0.000001}"#).status == 200)
            let aliased = try #require(
                try await h.send(
                    "/key/generate",
                    json: #"{"key_alias":"billing-app","team_id":"t-research","user_id":"bob@corp.example","max_budget":5}"#
                ).json?["key"]?.stringValue)
            let unaliased = try #require(try await h.send("/key/generate", json: #"{"max_budget":5}"#).json?["key"]?.stringValue)
            let body = #"{"model":"local","messages":[{"role":"user","content":"Say hello"}]}"#
            for key in [aliased, unaliased] {
                #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200)
            }
            let metrics = try await h.metrics()
            for secret in [
                aliased, unaliased, KeyDigest(key: aliased).hex, KeyDigest(key: unaliased).hex,
                KeyDigest(key: Harness.master).hex, "bob@corp.example",
            ] {
                #expect(!metrics.contains(secret), "\(secret) in /metrics")
            }
            let exposition = try MetricsExposition(metrics)
            let requests = "spanway_requests_total"
            #expect(
                try exposition.value(
                    of: requests, labels: ["team": "Research", "key_alias": "billing-app", "status_code": "200"]) == 1,
                "\(metrics)")
            #expect(
                try exposition.value(of: requests, labels: ["team": "", "key_alias": "unaliased", "status_code": "200"]) == 1)
            let remaining = "spanway_budget_remaining_usd"
            #expect(try exposition.value(of: remaining, labels: ["scope": "key", "name": "billing-app"]) != nil)
            #expect(try exposition.value(of: remaining, labels: ["scope": "team", "name": "Research"]) != nil)
            #expect(exposition.samples(remaining, matching: ["scope": "user"]).isEmpty)
            #expect(try exposition.value(of: "spanway_budgets_exhausted", labels: ["scope": "user"]) == 1)
        }
    }

    /// The gauge moves with each settled request, not with a store scan: read once before the
    /// request, it must equal max_budget minus the ledger's spend after it.
    @Test func budgetGaugeFollowsSettledSpend() async throws {
        try await Harness.with(config: Self.models) { h in
            let key = try #require(
                try await h.send("/key/generate", json: #"{"key_alias":"metered","max_budget":1}"#).json?["key"]?.stringValue)
            let series = #"spanway_budget_remaining_usd{scope="key",name="metered"}"#
            #expect(Self.sample(try await h.metrics(), series) == 1)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"Say hello"}]}"#,
                    key: key
                ).status == 200)
            let spend = try #require(try await h.store.fetch(VirtualKey.self, id: KeyDigest(key: key).hex)?.limits.spend)
            #expect(spend > 0)
            #expect(Self.sample(try await h.metrics(), series) == 1 - spend)
            // The admin API's changes show at once too.
            #expect(try await h.send("/key/update", json: #"{"key":"\#(key)","max_budget":2}"#).status == 200)
            #expect(Self.sample(try await h.metrics(), series) == 2 - spend)
            #expect(try await h.send("/key/delete", json: #"{"keys":["\#(key)"]}"#).status == 200)
            #expect(Self.sample(try await h.metrics(), series) == nil)
        }
    }

    // MARK: - The master key

    @Test func theMasterKeysDigestIsExportedNowhere() async throws {
        let config = Self.models + "litellm_settings: {callbacks: [\"otel\", \"generic_api\", \"langfuse\"]}"
        let env = [
            "GENERIC_LOGGER_ENDPOINT": "http://{hooks}/hook", "LANGFUSE_PUBLIC_KEY": "pk-lf-public",
            "LANGFUSE_SECRET_KEY": "sk-lf-secret-value", "LANGFUSE_HOST": "http://{hooks}/langfuse",
        ]
        try await Harness.with(config: config, environment: env) { h in
            let digest = KeyDigest(key: Harness.master).hex
            let reply = try await h.chat("local")
            #expect(reply.status == 200)
            let id = try #require(reply.headers.first(name: "x-spanway-request-id"))
            let row = try #require(try await h.store.spendLogs(SpendQuery()).first { $0.requestID == id })
            #expect(row.keyHash == "master" && row.keyAlias == "master")

            try await h.eventually("spans, webhook and Langfuse payloads") {
                !h.receiver.spans.isEmpty && !h.hooks.received(under: "/hook").isEmpty
                    && !h.hooks.received(under: "/langfuse").isEmpty
            }
            for span in h.receiver.spans {
                #expect(span[attribute: "spanway.key.hash"]?.stringValue == "master")
                #expect(!span.attributes.contains { $0.value.stringValue == digest })
            }
            let payloads = h.hooks.received(under: "/hook").flatMap { $0.json?.arrayValue ?? [] }
            let webhook = try #require(payloads.first)
            #expect(webhook["metadata"]?["user_api_key_hash"] == "master")
            #expect(h.hooks.received(under: "/langfuse").contains { $0.text.contains(#""key_hash":"master""#) })
            #expect(!h.hooks.everything.contains(digest))
            #expect(!(try await h.metrics()).contains(digest))
        }
    }

    // MARK: - Prices

    @Test func wildcardSpellingsArePricedAndUnpricedOnesCounted() async throws {
        try await Harness.with(config: Self.models) { h in
            let capitalised = try await h.chat("mock/GPT-4o-mini")
            #expect(capitalised.status == 200)
            let cost = Double(capitalised.headers.first(name: "x-spanway-response-cost") ?? "") ?? 0
            // gpt-4o-mini's row: 0.15 $/M input, 0.6 $/M output.
            let usage = try #require(capitalised.json?["usage"])
            let expected =
                Double(usage["prompt_tokens"]?.intValue ?? 0) * 1.5e-7 + Double(usage["completion_tokens"]?.intValue ?? 0) * 6e-7
            #expect(cost > 0 && abs(cost - expected) < 1e-12, "\(cost) vs \(expected)")

            #expect(try await h.chat("mock/no-such-model-anywhere").status == 200)
            #expect(try await h.chat("mock/no-such-model-anywhere").status == 200)
            let metrics = try await h.metrics()
            #expect(
                try MetricsExposition(metrics).value(of: "spanway_unpriced_requests_total", labels: ["model_group": "mock/*"])
                    == 2, "\(metrics)")
        }
    }

    /// A stream's cost must stay nil (not 0) when there is no price, or it is not counted.
    @Test func unpricedStreamsAreCountedToo() async throws {
        try await Harness.with(config: Self.models) { h in
            let streamed = try await h.chat("mock/no-such-model-anywhere", stream: true, includeUsage: true)
            #expect(streamed.status == 200 && ssePayloads(streamed.text).last == "[DONE]")
            let metrics = try await h.metrics()
            #expect(
                try MetricsExposition(metrics).value(of: "spanway_unpriced_requests_total", labels: ["model_group": "mock/*"])
                    == 1, "\(metrics)")
        }
    }

    @Test func requirePriceRefusesUnpricedModelsBeforeTheUpstream() async throws {
        try await Harness.with(config: Self.models + "spanway_settings: {require_price: true}") { h in
            let before = h.upstream.count
            let refused = try await h.chat("mock/no-such-model-anywhere")
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.json?["error"]?["param"] == "model")
            #expect(refused.json?["error"]?["code"] == "model_not_priced")
            #expect(h.upstream.count == before, "the upstream was called")
            #expect(try await h.chat("mock/GPT-4o-mini").status == 200)
            #expect(try await h.chat("local").status == 200)
        }
    }

    /// The value of the sample named exactly `series` (name and labels) in a text exposition.
    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }
}
