import GatewayTesting
import HTTPTypes
import Testing

@testable import Proxy
@testable import Telemetry

/// What the SERVER and CLIENT spans say about a request's outcome and its model, as `Exchange`
/// records them: OpenTelemetry's HTTP conventions for status
/// (https://opentelemetry.io/docs/specs/semconv/http/http-spans/#status) and one meaning of
/// `gen_ai.request.model` on both spans.
@Suite struct ExchangeSpanTests {
    static let deployment = Deployment(
        config: DeploymentConfig(modelName: "g", provider: "openai", model: "gpt-4o-mini-2024-07-18", id: "d"),
        adapter: OpenAIAdapter(), transport: FakeTransport.unreachable(), price: nil)

    static func request(_ model: String) throws -> OpenAIRequest {
        try OpenAIRequest(
            operation: .chat, bytes: Array(#"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#.utf8))
    }

    static func exchange() -> Exchange {
        Exchange(method: "POST", route: "/v1/chat/completions", operation: "chat", headers: [:])
    }

    static func text(_ value: AttributeValue?) -> String? {
        guard case .string(let text) = value else { return nil }
        return text
    }

    @Test func serverSpansAnswered4xxAreNotErrorsButKeepTheKindInTheSummary() throws {
        let refusals: [GatewayError] = [
            .modelNotFound("nope"), .permissionDenied("no"), .contentPolicyViolation("refused"),
            .upstream(clientStatus: 429, "slow down"), .payloadTooLarge(limit: 10),
        ]
        for error in refusals {
            #expect((400..<500).contains(error.status), "\(error.status)")
            let finished = try #require(Self.exchange().finish(status: error.status, error: error))
            #expect(finished.server.status == .unset, "\(error.status) \(error.errorType)")
            #expect(finished.server.attributes[AttributeName.errorType] == nil, "\(error.status)")
            #expect(finished.server.attributes[AttributeName.httpResponseStatusCode] == .int(Int64(error.status)))
            // Metrics, the ledger and the callbacks still know what went wrong.
            #expect(finished.summary.errorType == error.errorType && finished.summary.statusCode == error.status)
        }
    }

    @Test func serverSpansAnswered5xxOrCutOffAreErrors() throws {
        for error in [GatewayError.internal("boom"), .upstreamUnavailable("down", errorType: "connection_error")] {
            #expect(error.status >= 500)
            let finished = try #require(Self.exchange().finish(status: error.status, error: error))
            #expect(finished.server.status == .error(message: error.message))
            #expect(finished.server.attributes[AttributeName.errorType] == .string(error.errorType))
        }
        // A client that left mid-answer (499) was never answered: that is a failure of the exchange.
        let finished = try #require(
            Self.exchange().finish(status: 499, error: .timeout("gone"), clientDisconnected: true))
        #expect(finished.server.attributes[AttributeName.errorType] == .string("client_disconnected"))
        if case .error = finished.server.status {} else { Issue.record("\(finished.server.status)") }
    }

    @Test func anUpstreamCallRefused4xxIsStillAnErrorOfTheCall() throws {
        let exchange = Self.exchange()
        exchange.requested(try Self.request("g"), modelGroup: "g")
        let attempt = exchange.beginAttempt(Self.deployment, group: "g", number: 1, request: try Self.request("g"))
        let refused = GatewayError.contentPolicyViolation("refused")
        attempt.failed(refused)
        let finished = try #require(exchange.finish(status: refused.status, error: refused))
        let call = try #require(finished.attempts.first)
        #expect(call.status == .error(message: "refused"))
        #expect(call.attributes[AttributeName.errorType] == .string(refused.errorType))
        #expect(finished.server.status == .unset && finished.server.attributes[AttributeName.errorType] == nil)
    }

    @Test func requestModelIsTheClientsOnBothSpansAndTheUpstreamsHasItsOwn() throws {
        let exchange = Self.exchange()
        // The client asked for "fast", an alias of the group "g"; the fallback's request names its own group.
        exchange.requested(try Self.request("fast"), modelGroup: "g")
        let first = exchange.beginAttempt(Self.deployment, group: "g", number: 1, request: try Self.request("fast"))
        first.failed(GatewayError.internal("boom"))
        let fallback = exchange.beginAttempt(
            Self.deployment, group: "backup", number: 2, fallbackDepth: 1, request: try Self.request("backup"))
        fallback.failed(GatewayError.internal("boom"))
        let finished = try #require(exchange.finish(status: 500, error: .internal("boom")))
        #expect(Self.text(finished.server.attributes[AttributeName.requestModel]) == "fast")
        #expect(finished.attempts.count == 2)
        for (call, group) in zip(finished.attempts, ["g", "backup"]) {
            #expect(Self.text(call.attributes[AttributeName.requestModel]) == "fast")
            #expect(Self.text(call.attributes[AttributeName.upstreamModel]) == "gpt-4o-mini-2024-07-18")
            #expect(Self.text(call.attributes[AttributeName.modelGroup]) == group)
            #expect(call.name == "chat fast")
        }
        #expect(finished.upstreamModel == "gpt-4o-mini-2024-07-18")
    }
}
