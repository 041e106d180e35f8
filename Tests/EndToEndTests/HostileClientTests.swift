import Foundation
import GatewayTesting
import Store
import Synchronization
import Testing

@testable import Proxy

/// Issue 11, "every request settles exactly once, whatever the client does", and "slow and heavy
/// clients": real sockets against the in-process gateway.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileClientTests {
    static func config(gated port: Int, extra: String = "") -> String {
        """
        model_list:
          - model_name: gated
            litellm_params: {model: openai/gate-head-long, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: midway
            litellm_params: {model: openai/gate-mid, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: flood
            litellm_params: {model: openai/flood, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: hang
            litellm_params: {model: openai/hang, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: failing
            litellm_params: {model: openai/fail-first, api_base: "http://127.0.0.1:\(port)/v1", api_key: k, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: local
            litellm_params: {model: mock/gpt-4o-mini}
        general_settings: {master_key: \(Harness.master)}
        \(extra)
        """
    }

    /// The prompt of `rawChatRequest` ("Tell me a long story about gateways", 35 bytes) at the
    /// gateway's documented estimate of four bytes a token, rounded up.
    static let estimatedPromptTokens = 9

    func run(extra: String = "", _ body: (Harness, GatedUpstream) async throws -> Void) async throws {
        let upstream = GatedUpstream()
        try await withTestServer(upstream.router()) { port in
            try await Harness.with(config: Self.config(gated: port, extra: extra), otlp: false) { h in
                try await body(h, upstream)
            }
        }
    }

    func row(_ h: Harness, model: String) async throws -> SpendRow? {
        try await h.store.spendLogs(SpendQuery()).first { $0.modelGroup == model }
    }

    /// The request's ledger row, once it has settled.
    func settledRow(_ h: Harness, model: String) async throws -> SpendRow {
        var settled: SpendRow?
        try await h.eventually("the ledger row for '\(model)'") {
            settled = try await row(h, model: model)
            return settled != nil
        }
        return try #require(settled)
    }

    @Test func resetBeforeTheResponseHeadStillSettles() async throws {
        try await run { h, upstream in
            let key = try await h.newKey(#"{"max_parallel_requests":1,"max_budget":10}"#)
            let client = try await RawConnection.connect(port: h.gatewayPort)
            try await client.send(rawChatRequest(model: "gated", key: key))
            var arrivals = upstream.arrivals.makeAsyncIterator()
            #expect(await arrivals.next() == "gate-head-long")
            // The gateway is waiting on the upstream's head: the client goes away now.
            await client.reset()
            upstream.release()
            let spend = try await settledRow(h, model: "gated")
            #expect(spend.statusCode == 499)
            #expect(spend.errorType == "client_disconnected")
            #expect(spend.usageEstimated)
            // The gateway learns of the reset from its socket, which may be after some of the
            // answer was read and written: what it relayed, never the whole answer (525,317 bytes of
            // text, 131,330 tokens at four bytes a token).
            #expect(spend.inputTokens == Self.estimatedPromptTokens && spend.outputTokens < 131_330)
            #expect(abs(spend.spend - (Double(spend.inputTokens) * 0.001 + Double(spend.outputTokens) * 0.002)) < 1e-12)
            // The parallel slot and the budget reservation were given back: the key works again.
            let next = try await h.send(
                "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#, key: key)
            #expect(next.status == 200)
        }
    }

    @Test func resetMidStreamChargesWhatWasRelayed() async throws {
        try await run { h, upstream in
            let key = try await h.newKey(#"{"max_parallel_requests":1}"#)
            let client = try await RawConnection.connect(port: h.gatewayPort)
            try await client.send(rawChatRequest(model: "midway", key: key))
            let seen = await client.read(until: "more words.")
            #expect(seen.contains("200 OK") && seen.contains("Twelve bytes"))
            await client.reset()
            upstream.release()
            let spend = try await settledRow(h, model: "midway")
            #expect(spend.statusCode == 499 && spend.errorType == "client_disconnected")
            #expect(spend.usageEstimated)
            #expect(spend.inputTokens == Self.estimatedPromptTokens)
            // At least the two chunks the client saw ("Twelve bytes" + " more words.": 24 bytes, 6
            // tokens); the gateway may have relayed a few more before it saw the reset.
            #expect(spend.outputTokens >= 6)
            #expect(abs(spend.spend - (Double(spend.inputTokens) * 0.001 + Double(spend.outputTokens) * 0.002)) < 1e-12)
            let next = try await h.send(
                "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#, key: key)
            #expect(next.status == 200)
        }
    }

    @Test func aClientThatStopsReadingIsCutOffAndSettled() async throws {
        try await run(extra: "spanway_settings: {stream_write_timeout: 0.5}") { h, _ in
            let key = try await h.newKey(#"{"max_parallel_requests":1}"#)
            let client = try await RawConnection.connect(port: h.gatewayPort, reading: false)
            try await client.send(rawChatRequest(model: "flood", key: key))
            let spend = try await settledRow(h, model: "flood")
            #expect(spend.statusCode == 499 && spend.usageEstimated)
            #expect(spend.outputTokens > 0)
            let next = try await h.send(
                "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#, key: key)
            #expect(next.status == 200)
            await client.close()
        }
    }

    @Test func aStreamLongerThanItsLimitEndsWithAnError() async throws {
        try await run(extra: "spanway_settings: {max_stream_duration: 0.5}") { h, upstream in
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"hang","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(reply.status == 200)
            let events = ssePayloads(reply.text)
            #expect(events.first?.contains("Hello") == true)
            #expect(events.last?.contains(#""type":"timeout""#) == true)
            #expect(!reply.text.contains("[DONE]"))
            let spend = try #require(try await row(h, model: "hang"))
            #expect(spend.errorType == "timeout" && spend.usageEstimated && spend.outputTokens == 2)
            upstream.release()
        }
    }

    @Test func anUpstreamThatFailsBeforeAnyOutputIsNotCharged() async throws {
        try await run { h, _ in
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"failing","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(reply.status == 200 && reply.text.contains("overloaded") && !reply.text.contains("[DONE]"))
            let spend = try await settledRow(h, model: "failing")
            #expect(spend.spend == 0 && spend.inputTokens == 0 && !spend.usageEstimated)
            #expect(spend.errorType != nil)
        }
    }

    @Test func halfSentHeadsAndBodiesAreCutOff() async throws {
        try await run(extra: "spanway_settings: {request_header_timeout: 0.3, request_body_timeout: 0.3}") { h, _ in
            var stalled: [RawConnection] = []
            for _ in 0..<50 {
                let connection = try await RawConnection.connect(port: h.gatewayPort)
                // On a busy machine the 0.3 s may pass before this write: a send refused because
                // the gateway already cut the connection is the behaviour under test.
                try? await connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                stalled.append(connection)
            }
            // Each read ends only when the gateway closes the connection.
            for connection in stalled { #expect(await connection.readToClose().isEmpty) }
            let dripping = try await RawConnection.connect(port: h.gatewayPort)
            try? await dripping.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(Harness.master)\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"model\":")
            _ = await dripping.readToClose()
            // The gateway still serves.
            #expect(try await h.send("/health/liveliness").status == 200)
        }
    }

    @Test func connectionsPastTheLimitWait() async throws {
        try await run(extra: "spanway_settings: {max_connections: 2}") { h, _ in
            let first = try await RawConnection.connect(port: h.gatewayPort)
            try await first.send("GET /health/liveliness HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await first.read(until: "healthy").contains("200 OK"))
            let second = try await RawConnection.connect(port: h.gatewayPort)
            try await second.send("GET /health/liveliness HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await second.read(until: "healthy").contains("200 OK"))
            // A third is accepted by the kernel but not served while two are open.
            let third = try await RawConnection.connect(port: h.gatewayPort)
            try await third.send("GET /health/liveliness HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let served = Atomic<Bool>(false)
            let early = Task {
                let answer = await third.read(until: "healthy")
                served.store(true, ordering: .relaxed)
                return answer
            }
            // A round trip on an open connection, sent after the third's request: the gateway
            // has been running meanwhile, and still has not answered the third.
            try await second.send("GET /health/liveliness HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await second.read(until: "healthy").contains("200 OK"))
            let servedEarly = served.load(ordering: .relaxed)
            #expect(!servedEarly)
            await first.close()
            #expect(await early.value.contains("200 OK"))
            await second.close()
            await third.close()
        }
    }

    @Test func unknownCallersAreRefusedBeforeTheirBodyIsRead() async throws {
        try await run { h, _ in
            for path in ["/v1/chat/completions", "/key/generate", "/team/t1/callback"] {
                let client = try await RawConnection.connect(port: h.gatewayPort)
                // Announces 30 MB and sends none of it: an answer can only come from the headers.
                try await client.send(
                    "POST \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer sk-wrong\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 30000000\r\n\r\n")
                let answer = await client.read(until: "}}")
                #expect(answer.hasPrefix("HTTP/1.1 401") || answer.hasPrefix("HTTP/1.1 403"), "\(path): \(answer.prefix(40))")
                await client.close()
            }
        }
    }

    @Test func spentAndRateLimitedKeysAreRefusedBeforeTheirBodyIsParsed() async throws {
        try await run { h, _ in
            let spent = try await h.newKey(#"{"max_budget":0}"#)
            let garbage = "{" + String(repeating: "[", count: 10_000)
            let budget = try await h.send("/v1/chat/completions", json: garbage, key: spent)
            #expect(budget.status == 422 && budget.json?["error"]?["code"] == "budget_exceeded")
            let limited = try await h.newKey(#"{"rpm_limit":1}"#)
            #expect(
                try await h.send(
                    "/v1/chat/completions", json: #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#, key: limited
                ).status == 200)
            let refused = try await h.send("/v1/chat/completions", json: garbage, key: limited)
            #expect(refused.status == 429)
        }
    }
}
