import Foundation
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// One failing and one healthy deployment behind one model group: clients never see the failures,
/// the failing deployment is cooled down, and the spans show the retries.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RouterEndToEndTests {
    static let config = """
        router_settings: {num_retries: 1, allowed_fails: 2, cooldown_time: 60}
        litellm_settings: {callbacks: [otel]}
        model_list:
          - model_name: mixed
            litellm_params: {model: openai/error-500, api_base: "{upstream}"}
            model_info: {id: failing}
          - model_name: mixed
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}
            model_info: {id: healthy}
        """

    @Test func aFailingDeploymentIsRetriedAroundAndCooledDown() async throws {
        try await Harness.with(config: Self.config) { h in
            for index in 0..<100 {
                let reply = try await h.chat("mixed")
                #expect(reply.status == 200, "request \(index): \(reply.text)")
            }
            let sentToFailing = h.upstream.requests.withLock {
                $0.filter { String(decoding: $0.body, as: UTF8.self).contains("error-500") }.count
            }
            #expect(sentToFailing == 3, "allowed_fails 2: the third failure cools it down, then it gets nothing")

            let metrics = try await h.exposition()
            #expect(
                try metrics.value(of: "spanway_deployment_state", labels: ["model_group": "mixed", "deployment": "failing"]) == 1)
            #expect(
                try metrics.value(of: "spanway_deployment_state", labels: ["model_group": "mixed", "deployment": "healthy"]) == 0)
            #expect(
                try metrics.value(of: "spanway_cooldowns_total", labels: ["model_group": "mixed", "deployment": "failing"]) == 1)
            try await h.eventually("three requests needed a second attempt") {
                try await h.exposition().value(of: "spanway_retries_total", labels: ["model_group": "mixed"]) == 3
            }

            try await h.eventually("one failed attempt span per failed call, each followed by a good one") {
                let clients = h.receiver.spans.filter { $0.kind == .client }
                let failed = clients.filter { $0[attribute: "error.type"] != nil }
                return clients.count == 103 && failed.count == 3
                    && h.receiver.spans.filter { $0.kind == .server && $0.status.code != .error }.count == 100
            }
        }
    }

    static let fallbackConfig = """
        router_settings:
          num_retries: 0
          fallbacks: [{primary: [primary, backup]}]
          context_window_fallbacks: [{small: [backup]}]
          content_policy_fallbacks: [{strict: [backup]}]
          model_group_alias: {old-name: backup, hidden-name: {model: backup, hidden: true}}
        litellm_settings: {callbacks: [otel]}
        model_list:
          - {model_name: primary, litellm_params: {model: openai/error-500, api_base: "{upstream}"}}
          - {model_name: small, litellm_params: {model: openai/error-ctx, api_base: "{upstream}"}}
          - {model_name: lonely, litellm_params: {model: openai/error-503, api_base: "{upstream}"}}
          - {model_name: strict, litellm_params: {model: openai/error-policy, api_base: "{upstream}"}}
          - {model_name: backup, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}}
        """

    @Test func fallbacksByKindWithPerRequestOverrides() async throws {
        try await Harness.with(config: Self.fallbackConfig) { h in
            let general = try await h.chat("primary")
            #expect(
                general.status == 200
                    && general.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == MockUpstream.text)
            for alias in ["old-name", "hidden-name"] {
                let aliased = try await h.chat(alias)
                #expect(aliased.status == 200 && aliased.headers.first(name: "x-spanway-model-group") == "backup", "\(alias)")
            }
            let tooLong = try await h.chat("small")
            #expect(tooLong.status == 200, "context_window_fallbacks: \(tooLong.text)")
            let refused = try await h.chat("strict")
            #expect(refused.status == 200, "content_policy_fallbacks: \(refused.text)")

            let disabled = try await h.send(
                "/v1/chat/completions",
                json: #"{"model":"primary","disable_fallbacks":true,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(disabled.status == 500)
            let asked = try await h.send(
                "/v1/chat/completions",
                json: #"{"model":"lonely","fallbacks":["backup"],"messages":[{"role":"user","content":"x"}]}"#)
            #expect(asked.status == 200, "per-request fallbacks: \(asked.text)")
            #expect(
                h.upstream.requests.withLock {
                    !$0.isEmpty && $0.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("fallbacks") }
                })
            #expect(general.headers.first(name: "x-spanway-attempts") == "2")
            let metrics = try await h.exposition()
            let fallbacks = "spanway_fallbacks_total"
            #expect(try metrics.value(of: fallbacks, labels: ["from": "primary", "to": "backup", "reason": "error"]) == 1)
            #expect(try metrics.value(of: fallbacks, labels: ["from": "small", "to": "backup", "reason": "context_window"]) == 1)
            #expect(
                try metrics.value(of: fallbacks, labels: ["from": "strict", "to": "backup", "reason": "content_policy"]) == 1)
            let bad = try await h.send(
                "/v1/chat/completions",
                json: #"{"model":"lonely","fallbacks":"backup","messages":[{"role":"user","content":"x"}]}"#)
            #expect(bad.status == 400 && bad.json?["error"]?["param"] == "fallbacks")

            try await h.eventually("the answering attempt of a fallback has depth 1 and comes after the failed one") {
                let answered = h.receiver.spans.filter {
                    $0.kind == .client && $0[attribute: "spanway.fallback.depth"]?.intValue == 1
                        && $0[attribute: "error.type"] == nil
                }
                return answered.count == 4 && answered.allSatisfy { $0[attribute: "spanway.attempt"]?.intValue == 2 }
            }
        }
    }

    @Test func tagsFromTheHeaderOrTheBodyPickTheDeployment() async throws {
        let config = """
            router_settings: {enable_tag_filtering: true}
            model_list:
              - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", tags: [eu]}, model_info: {id: eu}}
              - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", tags: [us]}, model_info: {id: us}}
            """
        try await Harness.with(config: config) { h in
            for _ in 0..<10 {
                #expect(
                    try await h.chat("g", extra: [("x-spanway-tags", "us")]).headers.first(name: "x-spanway-deployment") == "us")
                let body = try await h.send(
                    "/v1/chat/completions",
                    json: #"{"model":"g","metadata":{"tags":["eu"]},"messages":[{"role":"user","content":"x"}]}"#)
                #expect(body.headers.first(name: "x-spanway-deployment") == "eu")
            }
            #expect(
                h.upstream.requests.withLock {
                    !$0.isEmpty && $0.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("metadata") }
                })
            #expect(try await h.chat("g", extra: [("x-spanway-tags", "apac")]).status == 400)
        }
    }

    @Test func wildcardGroupsRouteAnyMatchingModel() async throws {
        let config = """
            model_list:
              - {model_name: "openai/*", litellm_params: {model: "openai/*", api_base: "{upstream}"}}
              - {model_name: "*", litellm_params: {model: "mock/*"}}
            """
        try await Harness.with(config: config) { h in
            let reply = try await h.chat("openai/gpt-4o-mini")
            #expect(reply.status == 200 && reply.headers.first(name: "x-spanway-model-group") == "openai/*", "\(reply.text)")
            #expect(try JSONParser.parse(try #require(h.upstream.last).body)["model"] == "gpt-4o-mini")
            #expect((Double(reply.headers.first(name: "x-spanway-response-cost") ?? "") ?? 0) > 0, "priced as gpt-4o-mini")
            let other = try await h.chat("anything-else")
            #expect(other.status == 200 && other.headers.first(name: "x-spanway-model-group") == "*")
        }
    }

    @Test func retryPolicyRetriesServerErrorsWithoutNumRetries() async throws {
        let config = Self.config.replacingOccurrences(
            of: "{num_retries: 1, allowed_fails: 2, cooldown_time: 60}",
            with: "{num_retries: 0, allowed_fails: 1000, retry_policy: {InternalServerErrorRetries: 1}}")
        try await Harness.with(config: config) { h in
            for _ in 0..<20 {
                let reply = try await h.chat("mixed")
                #expect(reply.status == 200, "\(reply.text)")
            }
        }
    }

    @Test func preCallChecksSkipDeploymentsTooSmallForThePrompt() async throws {
        let config = """
            router_settings:
              enable_pre_call_checks: true
              context_window_fallbacks: [{small: [big]}]
            model_list:
              - {model_name: small, litellm_params: {model: openai/gpt-3.5-turbo, api_base: "{upstream}"}}
              - {model_name: big, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}}
            """
        try await Harness.with(config: config) { h in
            // About 25,000 tokens by the estimate; gpt-3.5-turbo holds 16,385.
            let long = String(repeating: "word ", count: 20_000)
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"small","messages":[{"role":"user","content":"\#(long)"}]}"#)
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            #expect(
                h.upstream.requests.withLock { $0.map { try? JSONParser.parse($0.body)["model"] } } == [.string("gpt-4o-mini")])
            #expect(reply.headers.first(name: "x-spanway-deployment")?.isEmpty == false)
            let short = try await h.chat("small")
            #expect(short.status == 200)
            #expect(
                try JSONParser.parse(try #require(h.upstream.last).body)["model"] == "gpt-3.5-turbo", "short prompts still fit")
        }
    }

    @Test func requestTimeoutsAndStreamTimeouts() async throws {
        let config = """
            model_list:
              - {model_name: slow, litellm_params: {model: openai/slow-600, api_base: "{upstream}", timeout: 5, stream_timeout: 0.2}}
            """
        try await Harness.with(config: config) { h in
            let patient = try await h.chat("slow")
            #expect(patient.status == 200, "timeout 5 s: \(patient.text)")
            let hurried = try await h.send(
                "/v1/chat/completions", json: #"{"model":"slow","timeout":0.2,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(hurried.status == 408 && hurried.json?["error"]?["code"] == "timeout", "\(hurried.text)")
            let streamed = try await h.chat("slow", stream: true)
            #expect(streamed.status == 408, "stream_timeout 0.2 s: \(streamed.text)")
            let invalid = try await h.send(
                "/v1/chat/completions", json: #"{"model":"slow","timeout":"soon","messages":[{"role":"user","content":"x"}]}"#)
            #expect(invalid.status == 400 && invalid.json?["error"]?["param"] == "timeout")
            #expect(
                h.upstream.requests.withLock {
                    !$0.isEmpty && $0.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains("timeout") }
                })
        }
    }
}
