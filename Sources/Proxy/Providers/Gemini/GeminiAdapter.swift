import Foundation
import NIOCore
import NIOHTTP1
import Telemetry

/// Google's Gemini models through AI Studio (`gemini/…`, an API key) or Vertex AI (`vertex_ai/…`,
/// an OAuth2 token from a service account). Both speak `generateContent` with the same bodies and
/// streams; they differ in host, path and authentication.
/// https://ai.google.dev/api/generate-content, https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest
public struct GeminiAdapter: ProviderAdapter {
    public enum Platform: Sendable {
        case aiStudio
        case vertexAI
    }

    public let platform: Platform
    /// Read for `VERTEXAI_PROJECT`, `VERTEXAI_LOCATION` and `GOOGLE_APPLICATION_CREDENTIALS` when a
    /// deployment does not set `vertex_project`, `vertex_location` or `vertex_credentials`.
    let environment: [String: String]
    /// A reference shared by every copy of the adapter, so one token serves all requests of a credential.
    let auth: VertexAuth

    public init(
        platform: Platform, environment: [String: String] = ProcessInfo.processInfo.environment,
        auth: VertexAuth = VertexAuth()
    ) {
        self.platform = platform
        self.environment = environment
        self.auth = auth
    }

    public var genAIProviderName: String {
        switch platform {
        case .aiStudio: "gcp.gemini"
        case .vertexAI: "gcp.vertex_ai"
        }
    }

    /// For Vertex the host depends on the location; this is the `global` one.
    public var defaultAPIBase: String {
        switch platform {
        case .aiStudio: "https://generativelanguage.googleapis.com"
        case .vertexAI: "https://aiplatform.googleapis.com"
        }
    }

    public var apiKeyEnvironment: String? { platform == .aiStudio ? "GEMINI_API_KEY" : nil }

    static let defaultVertexLocation = "us-central1"

    public func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest {
        let body: JSONObject
        let method: String
        switch request.operation {
        case .chat:
            body = try GeminiRequest.translate(
                request.body, model: try Self.modelID(deployment), dropParams: deployment.dropParams)
            method = request.stream ? "streamGenerateContent?alt=sse" : "generateContent"
        case .embeddings:
            body = try GeminiEmbeddings.request(request, model: try Self.modelID(deployment), platform: platform)
            method = platform == .aiStudio ? "batchEmbedContents" : "predict"
        case .imageGeneration:
            body = try GeminiImages.request(request.body)
            method = "predict"
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        // The key goes in a header, never in `?key=`: URLs end up in logs and traces.
        if platform == .aiStudio, let key = deployment.apiKey, !key.isEmpty {
            headers.add(name: "x-goog-api-key", value: key)
        }
        return UpstreamRequest(
            url: try endpoint(deployment, method: method), headers: headers, body: JSONValue.object(body).encoded())
    }

    /// Vertex only: adds the service account's access token, fetched or taken from the cache.
    public func prepare(_ request: UpstreamRequest, deployment: DeploymentConfig, transport: any Transport)
        async throws(GatewayError) -> UpstreamRequest
    {
        guard platform == .vertexAI else { return request }
        guard let credentials = credentialsSource(deployment) else {
            throw .authentication(
                "No Vertex AI credentials for '\(deployment.modelName)': set vertex_credentials (a service-account "
                    + "key file or its JSON) or GOOGLE_APPLICATION_CREDENTIALS.")
        }
        let token = try await auth.accessToken(credentials: credentials, transport: transport)
        var prepared = request
        prepared.headers.replaceOrAdd(name: "authorization", value: "Bearer \(token)")
        return prepared
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        switch request.operation {
        case .chat: try GeminiResponse.reply(body, requestedModel: request.model, includeReasoning: request.includeReasoning)
        case .embeddings: try GeminiEmbeddings.reply(body, for: request)
        case .imageGeneration: try GeminiImages.reply(body)
        default: throw GatewayError.notServed(request.operation, model: request.model)
        }
    }

    /// Chat, embeddings and Imagen's images; Responses and legacy completions through chat.
    public func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        switch operation {
        case .chat, .embeddings, .imageGeneration: .native
        case .responses, .textCompletion: .viaChat
        default: .unsupported
        }
    }

    public func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder {
        GeminiStreamDecoder(includeReasoning: request.includeReasoning)
    }

    public func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError {
        var parsed = try? JSONParser.parse(body)
        // Vertex wraps errors in an array when a stream is asked for without `alt=sse`.
        if let first = parsed?.arrayValue?.first { parsed = first }
        var mapped = GeminiError.gatewayError(parsed?["error"], httpStatus: status, secrets: deployment.secrets)
        if mapped.headers["retry-after"] == nil, let retryAfter = UpstreamStatus.retryAfterSeconds(headers) {
            mapped.headers["retry-after"] = retryAfter
        }
        return mapped
    }

    // MARK: Endpoints

    func endpoint(_ deployment: DeploymentConfig, method: String) throws(GatewayError) -> String {
        let model = try Self.modelID(deployment)
        switch platform {
        case .aiStudio:
            var base = deployment.apiBase ?? defaultAPIBase
            while base.hasSuffix("/") { base.removeLast() }
            // An api_base may name the version itself (`…/v1beta`); otherwise api_version or v1beta.
            let last = base.split(separator: "/").last ?? ""
            if !(last.hasPrefix("v1") && last.count <= 8) { base += "/" + (deployment.apiVersion ?? "v1beta") }
            return "\(base)/models/\(model):\(method)"
        case .vertexAI:
            let location = try vertexLocation(deployment)
            let project = try vertexProject(deployment)
            var base = deployment.apiBase ?? "https://\(Self.vertexHost(location: location))"
            while base.hasSuffix("/") { base.removeLast() }
            let version = deployment.apiVersion ?? "v1"
            return "\(base)/\(version)/projects/\(project)/locations/\(location)/publishers/google/models/\(model):\(method)"
        }
    }

    /// `global` has no regional host; `eu` and `us` are the multi-region endpoints.
    public func apiBase(for deployment: DeploymentConfig) -> String {
        if let base = deployment.apiBase { return base }
        guard platform == .vertexAI, let location = try? vertexLocation(deployment) else { return defaultAPIBase }
        return "https://\(Self.vertexHost(location: location))"
    }

    static func vertexHost(location: String) -> String {
        switch location {
        case "global": "aiplatform.googleapis.com"
        case "eu", "us": "aiplatform.\(location).rep.googleapis.com"
        default: "\(location)-aiplatform.googleapis.com"
        }
    }

    /// The configured model id, checked because it becomes part of the URL path.
    static func modelID(_ deployment: DeploymentConfig) throws(GatewayError) -> String {
        var model = deployment.model
        if model.hasPrefix("models/") { model.removeFirst("models/".count) }
        // A wildcard route's name is the client's: dot segments are its error (400), not the operator's.
        try ModelPathSegment.check(model)
        guard Self.isPathSafe(model, extra: "._-@") else {
            throw Self.configError("The model id configured for '\(deployment.modelName)' is not a valid Gemini model id.")
        }
        return model
    }

    func vertexLocation(_ deployment: DeploymentConfig) throws(GatewayError) -> String {
        let location =
            deployment.providerParams["vertex_location"] ?? environment["VERTEXAI_LOCATION"] ?? Self.defaultVertexLocation
        // The location becomes part of the host name.
        guard Self.isPathSafe(location, extra: "-"), location == location.lowercased() else {
            throw Self.configError("vertex_location for '\(deployment.modelName)' is not a valid Google Cloud location.")
        }
        return location
    }

    /// `vertex_project`, else `VERTEXAI_PROJECT`, else the `project_id` of the service-account key.
    func vertexProject(_ deployment: DeploymentConfig) throws(GatewayError) -> String {
        var project = deployment.providerParams["vertex_project"] ?? environment["VERTEXAI_PROJECT"]
        if project == nil, let credentials = credentialsSource(deployment) {
            project = try ServiceAccount.load(credentials).projectID
        }
        guard let project, Self.isPathSafe(project, extra: "-.:") else {
            throw Self.configError(
                "No valid Vertex AI project for '\(deployment.modelName)': set vertex_project or VERTEXAI_PROJECT.")
        }
        return project
    }

    func credentialsSource(_ deployment: DeploymentConfig) -> String? {
        let source = deployment.providerParams["vertex_credentials"] ?? environment["GOOGLE_APPLICATION_CREDENTIALS"]
        return source?.isEmpty == false ? source : nil
    }

    static func isPathSafe(_ text: String, extra: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || extra.unicodeScalars.contains(scalar))
            }
    }

    /// A deployment that cannot be called as configured: the operator's problem, not the client's.
    static func configError(_ message: String) -> GatewayError {
        .misconfigured(message)
    }
}
