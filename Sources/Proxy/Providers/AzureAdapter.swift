import Foundation
import NIOCore
import NIOHTTP1
import Telemetry

/// Azure OpenAI (`azure/<deployment>`): OpenAI's bodies on Azure's deployment URLs with an
/// `api-version` and an `api-key` header; Azure's error dialect (no `type`, stringly status codes,
/// content-filter refusals) mapped to OpenAI's. An `api_base` ending in `/openai/v1` selects
/// Azure's v1 API, which is OpenAI's own path with the deployment as `model`.
public struct AzureAdapter: ProviderAdapter {
    /// LiteLLM's default: new enough for `stream_options.include_usage` and reasoning usage.
    static let defaultAPIVersion = "2025-02-01-preview"
    private let openAI = OpenAIAdapter(providerName: "azure.ai.openai", defaultAPIBase: "")

    public var genAIProviderName: String { openAI.genAIProviderName }
    /// Azure has no shared endpoint: every deployment names its resource in `api_base`.
    public var defaultAPIBase: String { "" }
    public var apiKeyEnvironment: String? { "AZURE_API_KEY" }

    public init() {}

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        guard var base = deployment.apiBase, !base.isEmpty else {
            throw .invalidRequest(
                "The Azure deployment '\(deployment.modelName)' has no api_base (https://<resource>.openai.azure.com).")
        }
        while base.hasSuffix("/") { base.removeLast() }
        var upstream = try openAI.request(for: request, deployment: deployment)
        let path = OpenAIEndpoints.path(request.operation)
        if base.hasSuffix("/openai/v1") {
            upstream.url = base + path
        } else if request.operation == .responses {
            // The Responses API is not under a deployment: the model in the body names it.
            let version = deployment.apiVersion ?? "2025-03-01-preview"
            upstream.url = "\(base)/openai/responses?api-version=\(Self.queryValue(version))"
        } else {
            let version = deployment.apiVersion ?? Self.defaultAPIVersion
            try ModelPathSegment.check(deployment.model)
            upstream.url =
                "\(base)/openai/deployments/\(Self.pathSegment(deployment.model))\(path)?api-version=\(Self.queryValue(version))"
        }
        upstream.headers.remove(name: "authorization")
        if let key = deployment.apiKey, !key.isEmpty { upstream.headers.add(name: "api-key", value: key) }
        return upstream
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        try openAI.parseResponse(body, for: request)
    }

    /// Azure OpenAI's deployments serve what OpenAI's models do, but for rerank and moderations.
    public func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        operation == .rerank || operation == .moderation ? .unsupported : .native
    }

    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        AzureStreamDecoder()
    }

    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        let error = (try? JSONParser.parse(body))?["error"]
        let code = error?["code"]?.stringValue
        let message = SecretRedactor.scrub(
            error?["message"]?.stringValue ?? "Azure OpenAI answered HTTP \(status).", secrets: deployment.secrets)
        if code == "content_filter" || error?["innererror"]?["code"]?.stringValue == "ResponsibleAIPolicyViolation" {
            return .contentPolicyViolation(message, param: error?["param"]?.stringValue)
        }
        if code == "DeploymentNotFound" {
            return .upstream(clientStatus: 404, message)
        }
        return openAI.mapError(status: status, headers: headers, body: body, deployment: deployment)
    }

    /// Deployment names are free text in Azure's portal; keep them inside one path segment.
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "=", "+"])) ?? text
    }
}

/// OpenAI's stream with Azure's extra chunks left out: the leading one carries only
/// `prompt_filter_results` with `choices: []` and empty ids, which clients that read
/// `choices[0]` would trip on; asynchronous-filter chunks with no delta are dropped likewise.
struct AzureStreamDecoder: ChatStreamDecoder {
    private var inner = OpenAIStreamDecoder()

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        try inner.feed(buffer).filter(Self.isForClient)
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        try inner.finish().filter(Self.isForClient)
    }

    static func isForClient(_ chunk: StreamChunk) -> Bool {
        guard case .chunk(let object, _) = chunk, object["error"] == nil else { return true }
        if let usage = object["usage"], usage != .null { return true }
        // Responses events are all the client's.
        if object["type"] != nil && object["object"] == nil { return true }
        return object["choices"]?.arrayValue?.contains { choice in
            choice["finish_reason"].map { $0 != .null } ?? false
                || !(choice["delta"]?.objectValue?.isEmpty ?? true) || choice["text"] != nil
        } ?? false
    }
}
