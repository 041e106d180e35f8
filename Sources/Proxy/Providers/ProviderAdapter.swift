import NIOCore
import NIOHTTP1
import Telemetry

/// What a provider answered, normalised: an OpenAI-shaped body for the client plus the facts the
/// span needs.
public struct ProviderReply: Sendable {
    public var body: [UInt8]
    public var usage: Usage?
    public var responseID: String?
    public var responseModel: String?
    public var finishReasons: [String]
    /// Images, seconds, characters or searches billed, for the operations priced by them.
    public var units: BilledUnits?
    /// The answer's content type when it is not JSON (a transcript as text, SRT or VTT).
    public var contentType: String?

    public init(
        body: [UInt8], usage: Usage?, responseID: String?, responseModel: String?, finishReasons: [String],
        units: BilledUnits? = nil, contentType: String? = nil
    ) {
        self.body = body
        self.usage = usage
        self.responseID = responseID
        self.responseModel = responseModel
        self.finishReasons = finishReasons
        self.units = units
        self.contentType = contentType
    }
}

/// How a provider serves an operation.
public enum Serving: Sendable, Equatable {
    /// On its own endpoint for it.
    case native
    /// Translated to a chat completion and back (Responses, legacy completions).
    case viaChat
    case unsupported
}

/// One streamed event, already in OpenAI's chunk shape.
public enum StreamChunk: Sendable {
    /// A `chat.completion.chunk` (or an in-stream `error` object). `raw` is its exact JSON text,
    /// forwarded as is when the gateway has nothing to change.
    case chunk(JSONObject, raw: [UInt8])
    /// The end-of-stream marker (`data: [DONE]`).
    case done
}

/// Decodes a provider's stream into OpenAI chunks, across arbitrary network read boundaries.
public protocol ChatStreamDecoder: Sendable {
    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk]
    mutating func finish() throws(GatewayError) -> [StreamChunk]
}

/// A provider: how to build its native request, parse its response, decode its stream and map its
/// errors. Adding a provider is one adapter plus one line in `ProviderCatalogue`.
public protocol ProviderAdapter: Sendable {
    /// `gen_ai.provider.name` (OpenTelemetry's well-known value where there is one).
    var genAIProviderName: String { get }
    var defaultAPIBase: String { get }

    func request(for request: OpenAIRequest, deployment: DeploymentConfig) throws(GatewayError) -> UpstreamRequest
    func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply
    /// A decoder for this request's stream: the translation may depend on what was asked (JSON
    /// mode, reasoning text, the model to name in chunks).
    func makeStreamDecoder(for request: OpenAIRequest) -> any ChatStreamDecoder
    func mapError(status: Int, headers: HTTPHeaders, body: [UInt8], deployment: DeploymentConfig) -> GatewayError

    /// Where a deployment's requests go (for the span's `server.address`): `api_base`, else the
    /// provider's endpoint, which for some depends on the deployment's region or location.
    func apiBase(for deployment: DeploymentConfig) -> String

    /// The environment variable holding the provider's key when `api_key` is not configured.
    var apiKeyEnvironment: String? { get }

    /// How this provider serves `operation`: the gateway routes an operation only to
    /// deployments that serve it, natively or through chat.
    func serving(_ operation: OpenAIRequest.Operation) -> Serving

    /// Whether chat's `parallel_tool_calls: false` is known to be taken (some providers, and
    /// some OpenAI-compatible servers, refuse it).
    var takesParallelToolCallsOff: Bool { get }

    /// The last step before sending, after the gateway has added its own headers: request signing
    /// (Bedrock's SigV4) or fetching an access token (Vertex AI). `transport` reaches the network.
    func prepare(_ request: UpstreamRequest, deployment: DeploymentConfig, transport: any Transport)
        async throws(GatewayError) -> UpstreamRequest
}

extension HTTPHeaders {
    /// `content-type: application/json`, plus `authorization: Bearer <key>` when the deployment has a key.
    static func json(bearer key: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        if let key, !key.isEmpty { headers.add(name: "authorization", value: "Bearer \(key)") }
        return headers
    }
}

extension ProviderAdapter {
    public var apiKeyEnvironment: String? { nil }
    public var takesParallelToolCallsOff: Bool { false }

    /// Chat and embeddings natively; Responses and legacy completions through chat.
    public func serving(_ operation: OpenAIRequest.Operation) -> Serving {
        switch operation {
        case .chat, .embeddings: .native
        case .responses, .textCompletion: .viaChat
        default: .unsupported
        }
    }

    public func apiBase(for deployment: DeploymentConfig) -> String {
        deployment.apiBase ?? defaultAPIBase
    }

    public func prepare(_ request: UpstreamRequest, deployment: DeploymentConfig, transport: any Transport)
        async throws(GatewayError) -> UpstreamRequest
    {
        request
    }

    /// `api_base` (or the provider's default) with `path` appended, one slash between.
    func url(_ deployment: DeploymentConfig, _ path: String) -> String {
        var base = deployment.apiBase ?? defaultAPIBase
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }
}
