import HTTPTypes
import NIOCore
import NIOHTTP1
import Telemetry
import Tokenizers

extension Gateway {
    /// `POST /v1/messages/count_tokens` (https://docs.anthropic.com/en/api/messages-count-tokens):
    /// the prompt tokens of a Messages request, answered `{"input_tokens": N}`.
    ///
    /// Authenticated, and the model resolved, as for `/v1/messages` (key aliases, model access,
    /// group aliases, wildcards). A model served by an Anthropic deployment is counted by
    /// Anthropic: the request goes to that deployment's `/v1/messages/count_tokens` with its key.
    /// Any other model is counted here as `PromptCounter` counts it: OpenAI models with their BPE
    /// encoding, others with the bytes ÷ 4 estimate. Counting is free, so it is not rate-limited,
    /// charged or traced as a model call.
    public func countTokens(
        headers: HTTPFields, route: String, body readBody: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        do throws(GatewayError) {
            let counted = try await countingRequest(headers: headers, route: route, body: readBody)
            let (group, deployment) = (counted.group, counted.deployment)
            var body = counted.body
            if deployment.adapter is AnthropicAdapter {
                return try await forwardCountTokens(body, to: deployment, headers: headers)
            }
            // Counted from the request as the gateway would send it: the Messages translation,
            // which also checks the body and names a malformed field. Counting takes no `max_tokens`.
            if body["max_tokens"] == nil { body["max_tokens"] = .int(1) }
            let chat = try AnthropicInbound.chatRequest(from: JSONValue.object(body).encoded())
            let prompts = flow.attempts.prompts
            let tally = prompts.inputTokens(chat, tokenizer: prompts.tokenizer(for: deployment.config))
            return GatewayReply(
                status: 200,
                headers: [
                    ("content-type", "application/json"), ("x-spanway-model-group", group),
                    ("x-spanway-token-count", tally.estimated ? "estimated" : "tokenizer"),
                ],
                body: .bytes(JSONValue.object(["input_tokens": .int(tally.tokens)]).encoded()))
        } catch {
            return Self.anthropicReply(GatewayReply(error))
        }
    }

    /// A token-counting request: its caller, JSON body, model group and the deployment that would
    /// answer it, the model resolved as for a model call (key aliases, model access, group
    /// aliases, wildcards).
    func countingRequest(
        headers: HTTPFields, route: String, body readBody: () async throws(GatewayError) -> ByteBuffer
    ) async throws(GatewayError) -> (principal: Principal, body: JSONObject, group: String, deployment: Deployment) {
        let principal = try await authenticator.authenticate(headers, route: route)
        let bytes = try await readBody()
        guard let json = try? JSONParser.parse(bytes.readableBytesView), let body = json.objectValue else {
            throw .invalidRequest("The request body is not a JSON object.")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' is required.", param: "model")
        }
        let name = try principal.admit(model: model)
        guard let group = router.group(named: name), let deployment = countingDeployment(group, requested: name) else {
            throw GatewayError.modelNotFound(name)
        }
        return (principal, body, group, deployment)
    }

    /// The deployment that would answer first (a wildcard made concrete for the requested
    /// name); when the plan cannot be made (every deployment cooling down, tags), the group's first.
    private func countingDeployment(_ group: String, requested name: String) -> Deployment? {
        let plan = try? router.attempts(for: group, now: clock.nowSeconds(), requestedModel: name)
        return plan?.first ?? router.deployments(of: group).first
    }

    /// Anthropic's own count: the client's body (model set to the deployment's), the client's
    /// `anthropic-version` and `anthropic-beta` unless the deployment sets `api_version`, and the
    /// deployment's key. The answer, or Anthropic's error mapped as for Messages, goes back as is.
    private func forwardCountTokens(_ body: JSONObject, to deployment: Deployment, headers: HTTPFields)
        async throws(GatewayError) -> GatewayReply
    {
        var body = body
        // LiteLLM's own parameters are the gateway's, never Anthropic's.
        _ = try ClientParams(taking: &body)
        for name in ["tags", "num_retries", "timeout", "request_timeout", "stream_timeout", "fallbacks", "disable_fallbacks"] {
            body[name] = nil
        }
        body["model"] = .string(deployment.config.model)
        var upstreamHeaders = HTTPHeaders()
        upstreamHeaders.add(name: "content-type", value: "application/json")
        let version =
            deployment.config.apiVersion ?? headers.value("anthropic-version") ?? Self.defaultAnthropicVersion
        upstreamHeaders.add(name: "anthropic-version", value: version)
        if let beta = headers.value("anthropic-beta") { upstreamHeaders.add(name: "anthropic-beta", value: beta) }
        if let key = deployment.config.apiKey, !key.isEmpty { upstreamHeaders.add(name: "x-api-key", value: key) }
        var base = deployment.adapter.apiBase(for: deployment.config)
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + (base.hasSuffix("/v1") ? "" : "/v1") + "/messages/count_tokens"
        let request = UpstreamRequest(url: url, headers: upstreamHeaders, body: JSONValue.object(body).encoded())
        return GatewayReply(
            status: 200,
            headers: [("content-type", "application/json"), ("x-spanway-model-group", deployment.config.modelName)],
            body: .bytes(try await sendCount(request, to: deployment)))
    }

    /// Sends a provider's own token count (`request`, before signing) to `deployment` and returns
    /// its answer, which must carry an integer `input_tokens`.
    func sendCount(_ request: UpstreamRequest, to deployment: Deployment) async throws(GatewayError) -> [UInt8] {
        let answer = try await sendSmall(request, to: deployment)
        guard (try? JSONParser.parse(answer))?["input_tokens"]?.intValue != nil else {
            throw .badUpstreamResponse("The upstream answered its token count without 'input_tokens'.")
        }
        return answer
    }

    /// Sends a small, quick call that is not a model call (a token count, a delete) to
    /// `deployment`: with its `extra_headers`, signed as a model call is, bounded as a whole, its
    /// answer read (at most `maxSmallAnswer` bytes) and returned. A provider's error is thrown as
    /// for a model call.
    func sendSmall(_ request: UpstreamRequest, to deployment: Deployment) async throws(GatewayError) -> [UInt8] {
        var request = request
        deployment.config.addingDefaultHeaders(to: &request)
        request = try await deployment.adapter.prepare(
            request, deployment: deployment.config, transport: deployment.transport)
        let response: UpstreamResponse
        let answer: [UInt8]
        do {
            let timeout = min(deployment.timeout, Self.smallCallTimeout)
            (response, answer) = try await UpstreamDeadline.run(within: timeout) { [request] in
                let response = try await deployment.transport.send(request, timeout: timeout)
                return (response, try await response.collect(upTo: Self.maxSmallAnswer))
            }
        } catch {
            throw AttemptLoop.transportError(error, deployment: deployment)
        }
        guard (200..<300).contains(response.status) else {
            throw deployment.adapter.mapError(
                status: response.status, headers: response.headers, body: answer, deployment: deployment.config)
        }
        return answer
    }

    /// The longest a small call may take, when the deployment's own timeout is longer.
    static let smallCallTimeout: Duration = .seconds(30)
    static let defaultAnthropicVersion = "2023-06-01"
    /// `{"input_tokens": N}`, a delete's `{"id", "deleted"}`: anything much larger is not an answer.
    static let maxSmallAnswer = 64 * 1024
}
