import Testing

@testable import Proxy

/// Each failure's wire shape and the decisions that read it. Expected values are the normalised
/// error table every adapter follows (gateway status, OpenAI `error.type`, `error.code`) and
/// LiteLLM's retry/cooldown rules, not the code under test.
@Suite struct FailureTests {
    /// The table's status, code and kind. Its `error.type` column (`rate_limit_error`,
    /// `overloaded_error`, `timeout_error`) is not what the gateway sends today for every
    /// provider; aligning it is a wire change, left to the LiteLLM drop-in work.
    struct Row: Sendable, CustomTestStringConvertible {
        var clientStatus: Int
        var code: String?
        var kind: UpstreamFailure
        var retryable: Bool
        var testDescription: String { "upstream \(clientStatus)" }
    }

    static let upstreamTable: [Row] = [
        Row(clientStatus: 400, code: nil, kind: .badRequest, retryable: false),
        Row(clientStatus: 401, code: "invalid_api_key", kind: .authentication, retryable: false),
        Row(clientStatus: 403, code: "permission_denied", kind: .permissionDenied, retryable: false),
        Row(clientStatus: 404, code: "model_not_found", kind: .notFound, retryable: false),
        Row(clientStatus: 408, code: "timeout", kind: .timeout, retryable: true),
        Row(clientStatus: 422, code: "unprocessable_entity", kind: .badRequest, retryable: false),
        Row(clientStatus: 429, code: "rate_limit_exceeded", kind: .rateLimited, retryable: true),
        Row(clientStatus: 500, code: "internal_error", kind: .serverError, retryable: true),
        Row(clientStatus: 502, code: "bad_gateway", kind: .badResponse, retryable: true),
        Row(clientStatus: 503, code: "overloaded", kind: .overloaded, retryable: true),
        Row(clientStatus: 504, code: "timeout", kind: .timeout, retryable: true),
    ]

    @Test(arguments: upstreamTable) func upstreamStatusesMapToTheirKindAndShape(_ row: Row) {
        let error = GatewayError.upstream(clientStatus: row.clientStatus, "failed")
        #expect(error.failure == .upstream(row.kind))
        #expect(error.status == row.clientStatus)
        #expect(error.code == row.code)
        #expect(error.isRetryable == row.retryable)
        #expect(error.errorType == row.code ?? String(row.clientStatus))
    }

    @Test func anExhaustedQuotaIsA429ThatIsNotRetried() {
        let quota = GatewayError.upstream(
            clientStatus: 429, "You exceeded your current quota",
            detail: .init(type: "insufficient_quota", code: "insufficient_quota"))
        #expect(quota.failure == .upstream(.quotaExhausted))
        #expect(quota.status == 429 && quota.type == "insufficient_quota" && quota.code == "insufficient_quota")
        #expect(!quota.isRetryable)
        #expect(quota.failure.coolsDownAtOnce, "a 429 cools the deployment down at once")
        #expect(RetryPolicy.Kind(quota.failure) == .rateLimit)
    }

    @Test func theProvidersOwnWordsPassThroughButTheKindDecides() {
        let anthropic = GatewayError.upstream(
            clientStatus: 503, "Overloaded", detail: .init(type: "overloaded_error", code: "overloaded_error"),
            label: "overloaded_error")
        #expect(anthropic.type == "overloaded_error" && anthropic.code == "overloaded_error")
        #expect(anthropic.failure == .upstream(.overloaded) && anthropic.isRetryable)
        #expect(anthropic.errorType == "overloaded_error")
        // A null code from the provider is sent as null, not replaced by the gateway's.
        let bare = GatewayError.upstream(clientStatus: 429, "slow", detail: .init(code: nil), label: "429")
        #expect(bare.code == nil && bare.type == "rate_limit_exceeded" && bare.errorType == "429")
        #expect(bare.body["error"]?["code"]?.isNull == true)
    }

    @Test func contextWindowAndContentPolicyChooseTheirOwnFallbacks() {
        let long = GatewayError.contextWindowExceeded("prompt is too long", status: 413)
        #expect(long.status == 413 && long.code == "context_length_exceeded" && long.type == "invalid_request_error")
        #expect(GatewayError.contextWindowExceeded("prompt is too long").status == 400)
        #expect(!long.isRetryable && !long.failure.countsAgainstDeployment && !long.failure.isProvidersFault)
        #expect(Fallbacks.reason(long.failure) == "context_window")
        let refused = GatewayError.contentPolicyViolation("blocked")
        #expect(refused.status == 400 && refused.code == "content_policy_violation")
        #expect(Fallbacks.reason(refused.failure) == "content_policy")
        #expect(RetryPolicy.Kind(refused.failure) == .contentPolicy)
    }

    @Test func theGatewaysOwnRefusalsKeepTheirContractShapes() {
        // Shapes the OpenAI SDKs and LiteLLM clients rely on.
        let budget = GatewayError(.budgetExceeded, "spent")
        #expect(budget.status == 422 && budget.type == "budget_exceeded" && budget.code == "budget_exceeded")
        let limited = GatewayError(.rateLimited, "limited")
        #expect(limited.status == 429 && limited.errorType == "rate_limited" && limited.isRetryable)
        let auth = GatewayError.authentication("no key")
        #expect(auth.status == 401 && auth.type == "authentication_error" && auth.code == "invalid_api_key")
        let model = GatewayError.modelNotFound("gpt-9")
        #expect(model.status == 404 && model.param == "model" && model.code == "model_not_found")
        let tooLarge = GatewayError.payloadTooLarge(limit: 10)
        #expect(tooLarge.status == 413 && tooLarge.headers["connection"] == "close")
        let cooling = GatewayError(.noHealthyDeployment, "cooling")
        #expect(cooling.status == 429 && cooling.code == "no_healthy_deployment" && cooling.isRetryable)
        #expect(cooling.type == "all_deployments_in_cooldown", "LiteLLM's RouterRateLimitError")
        let closed = GatewayError(.clientClosed, "gone", label: "client_disconnected")
        #expect(closed.status == 499 && closed.errorType == "client_disconnected" && !closed.isRetryable)
        let invalid = GatewayError.invalidRequest("bad", param: "temperature")
        #expect(invalid.errorType == "invalid_request" && invalid.code == nil && invalid.param == "temperature")
        #expect(GatewayError.invalidRequest("bad", code: "no_deployment_for_tags").errorType == "no_deployment_for_tags")
    }

    @Test func onlyTheDeploymentsFaultsCoolItDown() {
        for failure: Failure in [.upstream(.authentication), .upstream(.notFound), .upstream(.rateLimited)] {
            #expect(failure.coolsDownAtOnce && failure.countsAgainstDeployment)
        }
        for failure: Failure in [.upstream(.serverError), .upstream(.timeout), .upstream(.unreachable), .timeout] {
            #expect(!failure.coolsDownAtOnce && failure.countsAgainstDeployment)
        }
        for failure: Failure in [.upstream(.badRequest), .upstream(.permissionDenied), .invalidRequest, .clientClosed] {
            #expect(!failure.countsAgainstDeployment)
        }
        #expect(Failure.upstream(.permissionDenied).isProvidersFault, "another provider may accept the request")
        #expect(!Failure.upstream(.badRequest).isProvidersFault, "a bad request fails anywhere")
    }
}
