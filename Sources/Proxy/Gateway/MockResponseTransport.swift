import Telemetry

/// Answers with a client's `mock_response` instead of calling the upstream, OpenAI-shaped (JSON
/// or a stream) with usage 0, so the request costs nothing and still settles as one span, as
/// LiteLLM's mock answers do. Used only when the caller's key or team metadata sets
/// `allow_client_mock_response: true`.
struct MockResponseTransport: Transport {
    let answer: String

    func send(_ request: UpstreamRequest, timeout: Duration) async throws -> UpstreamResponse {
        let body = (try? JSONParser.parse(request.body).objectValue) ?? [:]
        return MockUpstream().chat(body, model: body["model"]?.stringValue ?? "mock", answer: answer)
    }
}

extension Deployment {
    /// This deployment answering `answer` itself: spans and prices stay the deployment's, and the
    /// request is sent OpenAI-shaped to a transport that never leaves the process.
    func mocked(answering answer: String) -> Deployment {
        Deployment(
            config: config, adapter: OpenAIAdapter(providerName: adapter.genAIProviderName),
            transport: MockResponseTransport(answer: answer), price: price)
    }
}

extension Principal {
    /// `allow_client_mock_response: true` in the key's or its team's metadata.
    var allowsClientMockResponse: Bool {
        [key?.metadata, team?.metadata].contains { text in
            guard let text, let metadata = try? JSONParser.parse(Array(text.utf8)) else { return false }
            return metadata["allow_client_mock_response"]?.boolValue == true
        }
    }
}

extension Route {
    /// The route with its first deployment answering `answer` once: no retries, no fallbacks.
    func mocked(answering answer: String, router: ModelRouter) -> Route? {
        guard let deployment = plan.first ?? router.deployments(of: group).first else { return nil }
        return Route(
            group: group, plan: [deployment.mocked(answering: answer)],
            fallbacks: Fallbacks.Resolved(override: Fallbacks.Override(disabled: true), groups: [:]))
    }
}
