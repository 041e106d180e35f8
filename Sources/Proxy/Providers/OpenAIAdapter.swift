import NIOCore
import NIOHTTP1
import Telemetry

/// OpenAI's API, and every OpenAI-compatible one behind an `api_base`. Bodies are spliced: the
/// client's JSON goes out with only the model (and usage request) changed, and the answer comes
/// back byte for byte once it has been checked and read for usage.
public struct OpenAIAdapter: ProviderAdapter {
    public let genAIProviderName: String
    public let defaultAPIBase: String
    public let apiKeyEnvironment: String?

    public init(
        providerName: String = "openai", defaultAPIBase: String = "https://api.openai.com/v1",
        apiKeyEnvironment: String? = "OPENAI_API_KEY"
    ) {
        self.genAIProviderName = providerName
        self.defaultAPIBase = defaultAPIBase
        self.apiKeyEnvironment = apiKeyEnvironment
    }

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        var headers = HTTPHeaders.json(bearer: deployment.apiKey)
        if request.stream { headers.add(name: "accept", value: "text/event-stream") }
        let (json, parts) = OpenAIEndpoints.body(request, model: deployment.model, headers: &headers)
        var upstream = UpstreamRequest(
            url: url(deployment, OpenAIEndpoints.path(request.operation)), headers: headers, body: json)
        upstream.bodyParts = parts
        return upstream
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        try OpenAIEndpoints.reply(body, for: request)
    }

    /// OpenAI itself (and the mock, which stands in for it) serves every endpoint but rerank;
    /// OpenAI-compatible servers serve chat, embeddings and completions, vLLM rerank too, and
    /// get Responses through chat.
    public func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        let isOpenAI = genAIProviderName == "openai" || genAIProviderName == "mock"
        switch operation {
        case .chat, .embeddings, .textCompletion: return .native
        case .responses: return isOpenAI ? .native : .viaChat
        case .rerank: return genAIProviderName == "vllm" ? .native : .unsupported
        case .imageGeneration, .audioSpeech, .audioTranscription, .audioTranslation, .moderation:
            return isOpenAI ? .native : .unsupported
        }
    }

    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        OpenAIStreamDecoder()
    }

    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let upstream = (try? JSONParser.parse(body))?["error"]
        let message = SecretRedactor.scrub(
            upstream?["message"]?.stringValue ?? upstream?.stringValue ?? "The upstream provider answered HTTP \(status).",
            secrets: deployment.secrets)
        let code = upstream?["code"]?.stringValue ?? upstream?["code"]?.intValue.map(String.init)
        let param = upstream?["param"]?.stringValue
        if Self.contentPolicyCodes.contains(code ?? "") { return .contentPolicyViolation(message, param: param) }
        if (status == 400 || status == 413) && UpstreamErrorText.isContextWindowExceeded("\(code ?? "") \(message)") {
            return .contextWindowExceeded(message, status: status, param: param)
        }
        var error = GatewayError.upstream(
            clientStatus: UpstreamStatus.clientStatus(forUpstream: status), message, param: param,
            detail: .init(type: upstream?["type"]?.stringValue, code: code), label: code ?? String(status))
        if let retryAfter = UpstreamStatus.retryAfterSeconds(headers) {
            error.headers["retry-after"] = retryAfter
        }
        return error
    }

    /// OpenAI's codes for a prompt or output refused by policy (Azure's `content_filter` included).
    static let contentPolicyCodes: Set<String> = ["content_policy_violation", "invalid_prompt", "content_filter"]
}

/// OpenAI's SSE stream: each `data:` is a chunk; `[DONE]` ends it.
struct OpenAIStreamDecoder: FramedStreamDecoder {
    var framing = SSEDecoder()

    func translate(_ event: SSEEvent) throws(GatewayError) -> [StreamChunk] {
        if event.data == Array("[DONE]".utf8) { return [.done] }
        guard let json = try? JSONParser.parse(event.data), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        return [.chunk(object, raw: event.data)]
    }
}
