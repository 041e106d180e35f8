import Foundation
import NIOCore
import NIOHTTP1
import Telemetry

/// AWS Bedrock (`bedrock/<modelId>`) through the Converse API: OpenAI requests
/// translated to Converse, answers and binary event streams translated back, exceptions mapped.
/// Requests are signed with SigV4 in `prepare`, after the gateway has added its own headers, or
/// carry a Bedrock API key as a bearer token. Embeddings go through InvokeModel for the Titan and
/// Cohere embedding models.
public struct BedrockAdapter: ProviderAdapter {
    public var genAIProviderName: String { "aws.bedrock" }
    /// The host depends on the region; this is the environment's region, for span attributes
    /// only. Requests use each deployment's own region.
    public var defaultAPIBase: String { Self.endpoint(region: environment.region ?? "us-east-1") }
    /// Bedrock API keys, sent as `Authorization: Bearer` instead of a signature (the AWS SDKs'
    /// variable).
    public var apiKeyEnvironment: String? { "AWS_BEARER_TOKEN_BEDROCK" }
    /// SigV4's service name for Bedrock Runtime (not `bedrock-runtime`).
    static let signingName = "bedrock"

    let environment: AWSEnvironment

    /// `environment` is read once, here: AWS credentials and region when a deployment sets none.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = AWSEnvironment(environment)
    }

    public func apiBase(for deployment: DeploymentConfig) -> String {
        deployment.apiBase ?? environment.region(for: deployment).map(Self.endpoint) ?? defaultAPIBase
    }

    static func endpoint(region: String) -> String {
        "https://bedrock-runtime.\(region).amazonaws.com"
    }

    /// LiteLLM's route prefixes (`bedrock/converse/<id>`, `bedrock/invoke/<id>`) name the API,
    /// not the model; chat always goes through Converse here.
    static func modelID(_ model: String) -> String {
        for prefix in ["converse/", "invoke/"] where model.hasPrefix(prefix) { return String(model.dropFirst(prefix.count)) }
        return model
    }

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        var base: String
        if let apiBase = deployment.apiBase, !apiBase.isEmpty {
            base = apiBase
        } else {
            base = try Self.endpoint(region: region(for: deployment))
        }
        while base.hasSuffix("/") { base.removeLast() }
        // One path segment, so `:` in versions and `/` in ARNs are encoded too; `.` and `..`
        // need no encoding, so they are refused.
        try ModelPathSegment.check(Self.modelID(deployment.model), allowSlash: true)
        let modelPath = base + "/model/" + SigV4Signer.uriEncode(Self.modelID(deployment.model), keepSlash: false)
        var headers = HTTPHeaders.json(bearer: deployment.apiKey)
        switch request.operation {
        case .chat:
            let body = try BedrockRequest.translate(request.body, dropParams: deployment.dropParams)
            if request.stream { headers.add(name: "accept", value: "application/vnd.amazon.eventstream") }
            return UpstreamRequest(
                url: modelPath + (request.stream ? "/converse-stream" : "/converse"), headers: headers,
                body: JSONValue.object(body).encoded())
        case .embeddings:
            let body = try BedrockEmbeddings.request(
                request.body, model: deployment.model, dropParams: deployment.dropParams)
            return UpstreamRequest(url: modelPath + "/invoke", headers: headers, body: JSONValue.object(body).encoded())
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
    }

    /// SigV4 over the final request; a request with a Bedrock API key is sent as it is.
    public func prepare(_ request: UpstreamRequest, deployment: DeploymentConfig, transport: any Transport)
        async throws(GatewayError) -> UpstreamRequest
    {
        if let key = deployment.apiKey, !key.isEmpty { return request }
        guard let credentials = environment.credentials(for: deployment) else {
            throw Self.misconfigured(
                "The Bedrock deployment '\(deployment.modelName)' has no AWS credentials: set aws_access_key_id and "
                    + "aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a Bedrock API key.")
        }
        let signer = try SigV4Signer(credentials: credentials, region: region(for: deployment), service: Self.signingName)
        return try signer.sign(request, at: Date())
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        if request.operation == .embeddings {
            let base64 = request.body["encoding_format"]?.stringValue == "base64"
            return try BedrockEmbeddings.parse(body, model: request.model, base64: base64)
        }
        guard let json = try? JSONParser.parse(body), let blocks = json["output"]?["message"]?["content"]?.arrayValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a Bedrock Converse response.")
        }
        var text = ""
        var toolCalls: [JSONValue] = []
        for block in blocks {
            if let part = block["text"]?.stringValue {
                text += part
            } else if let toolUse = block["toolUse"] {
                guard let id = toolUse["toolUseId"]?.stringValue, let name = toolUse["name"]?.stringValue else {
                    throw .badUpstreamResponse("The upstream's Bedrock toolUse block has no toolUseId or name.")
                }
                toolCalls.append(
                    .object(
                        CanonicalToolCall.json(
                            id: .string(id), name: .string(name), arguments: (toolUse["input"] ?? .object([:])).encodedString())))
            }
            // reasoningContent, citations and the like have no OpenAI field.
        }
        let finish = Self.finishReason(json["stopReason"]?.stringValue, sawToolCall: !toolCalls.isEmpty)
        let message = CanonicalCompletion.message(text: text, toolCalls: toolCalls)
        // Converse has no response id and names no model: make an id up, echo the model asked for.
        return CanonicalCompletion.reply(
            id: .string(Self.makeResponseID()), model: .string(request.model), responseModel: nil,
            choices: [CanonicalCompletion.choice(message: message, finish: finish)], usage: Self.usage(json["usage"]),
            reported: Self.reportedUsage, finishReasons: [finish])
    }

    /// The stream decoder for one request: chunks name the model the client asked for, since
    /// Bedrock's stream names none.
    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        BedrockStreamDecoder(model: request.model, secrets: environment.credentials?.secrets ?? [])
    }

    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let json = try? JSONParser.parse(body)
        let text = json?["message"]?.stringValue ?? json?["Message"]?.stringValue ?? "Bedrock answered HTTP \(status)."
        let secrets = deployment.secrets + (environment.credentials?.secrets ?? [])
        var error = BedrockError.map(
            name: BedrockError.name(headers: headers, body: json), message: SecretRedactor.scrub(text, secrets: secrets),
            upstreamStatus: status)
        if let retryAfter = UpstreamStatus.retryAfterSeconds(headers) { error.headers["retry-after"] = retryAfter }
        return error
    }

    func region(for deployment: DeploymentConfig) throws(GatewayError) -> String {
        guard let region = environment.region(for: deployment) else {
            throw Self.misconfigured(
                "The Bedrock deployment '\(deployment.modelName)' has no AWS region: set aws_region_name (or AWS_REGION).")
        }
        return region
    }

    /// A deployment that cannot be called as configured: the gateway's fault, not the client's,
    /// and another deployment of the group may still work.
    static func misconfigured(_ message: String) -> GatewayError {
        GatewayError(.misconfigured, message, detail: .init(code: nil), label: "provider_configuration")
    }

    static func makeResponseID() -> String {
        "chatcmpl-" + UUID().uuidString.lowercased().filter { $0 != "-" }
    }

    /// Converse's `inputTokens` leaves out cache reads and writes; GenAI input includes them.
    /// Reasoning tokens are not reported.
    static func usage(_ json: JSONValue?) -> Usage? {
        guard let input = json?["inputTokens"]?.tokenCount else { return nil }
        let cacheRead = json?["cacheReadInputTokens"]?.tokenCount ?? 0
        let cacheWrite = json?["cacheWriteInputTokens"]?.tokenCount ?? 0
        return Usage(
            inputTokens: input + cacheRead + cacheWrite, outputTokens: json?["outputTokens"]?.tokenCount ?? 0,
            cacheReadTokens: cacheRead, cacheCreationTokens: cacheWrite)
    }

    /// Converse reports cache reads (and writes, which `CanonicalUsage` always shows), but no
    /// reasoning count.
    static let reportedUsage: CanonicalUsage.Details = [.cachedTokens]

    /// Converse's stop reasons in OpenAI's terms. A turn that called tools finishes with `tool_calls` even when the
    /// model said `end_turn`.
    static func finishReason(_ stop: String?, sawToolCall: Bool) -> String {
        switch stop {
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "guardrail_intervened", "content_filtered": "content_filter"
        default: sawToolCall ? "tool_calls" : "stop"
        }
    }
}
