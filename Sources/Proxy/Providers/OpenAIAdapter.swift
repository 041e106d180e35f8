import NIOCore
import NIOHTTP1
import Sinks
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
        var body = request.body
        body["model"] = .string(deployment.model)
        if request.operation == .chat && request.stream {
            // Always ask for usage so spend is never missing; the client only sees it if it asked.
            var options = body["stream_options"]?.objectValue ?? JSONObject()
            options["include_usage"] = .bool(true)
            body["stream_options"] = .object(options)
        }
        var headers = HTTPHeaders.json(bearer: deployment.apiKey)
        if request.stream { headers.add(name: "accept", value: "text/event-stream") }
        let path = request.operation == .chat ? "/chat/completions" : "/embeddings"
        return UpstreamRequest(url: url(deployment, path), headers: headers, body: JSONValue.object(body).encoded())
    }

    public func parseResponse(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body, limits: .upstreamResponse), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a JSON object.")
        }
        let expected = request.operation == .chat ? "choices" : "data"
        guard object[expected]?.arrayValue != nil else {
            throw .badUpstreamResponse("The upstream's answer has no '\(expected)' array.")
        }
        return ProviderReply(
            body: body, usage: object["usage"].flatMap(Self.usage), responseID: object["id"]?.stringValue,
            responseModel: object["model"]?.stringValue,
            finishReasons: object["choices"]?.arrayValue?.compactMap { $0["finish_reason"]?.stringValue } ?? [])
    }

    public func makeStreamDecoder() -> any ChatStreamDecoder {
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
        var error = GatewayError(
            status: Self.clientStatus(forUpstream: status),
            type: upstream?["type"]?.stringValue ?? Self.errorType(forStatus: status),
            message: message,
            param: param,
            code: code,
            errorType: code ?? String(status))
        if let retryAfter = Self.retryAfterSeconds(headers) {
            error.headers["retry-after"] = retryAfter
        }
        return error
    }

    /// OpenAI's codes for a prompt or output refused by policy (Azure's `content_filter` included).
    static let contentPolicyCodes: Set<String> = ["content_policy_violation", "invalid_prompt", "content_filter"]

    /// OpenAI's usage object in GenAI terms: `prompt_tokens` already includes cached tokens and
    /// `completion_tokens` already includes reasoning tokens.
    static func usage(_ json: JSONValue) -> Usage? {
        guard let object = json.objectValue else { return nil }
        let input = object["prompt_tokens"]?.tokenCount ?? object["input_tokens"]?.tokenCount
        guard let input else { return nil }
        return Usage(
            inputTokens: input,
            outputTokens: object["completion_tokens"]?.tokenCount ?? object["output_tokens"]?.tokenCount ?? 0,
            // DeepSeek reports cache hits on its own field.
            cacheReadTokens: object["prompt_tokens_details"]?["cached_tokens"]?.tokenCount
                ?? object["prompt_cache_hit_tokens"]?.tokenCount ?? 0,
            cacheCreationTokens: object["prompt_tokens_details"]?["cache_creation_tokens"]?.tokenCount ?? 0,
            reasoningTokens: object["completion_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
    }

    /// Statuses are passed through where the client can act on them; anything odd becomes 502.
    static func clientStatus(forUpstream status: Int) -> Int {
        switch status {
        case 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504: status
        case 400..<500: 400
        default: 502
        }
    }

    static func errorType(forStatus status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_denied"
        case 404: "not_found_error"
        case 429: "rate_limit_exceeded"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }

    /// `retry-after` (seconds or an HTTP-date), or OpenAI's `retry-after-ms`, as whole seconds
    /// rounded up. The upstream's headers are outside input: NaN, infinities, negatives and dates
    /// that do not parse are ignored, and waits over a day are clamped to a day, so what the
    /// cooldowns and the client see is always a small whole number.
    static func retryAfterSeconds(_ headers: HTTPHeaders) -> String? {
        if let value = headers.first(name: "retry-after"), let wait = RetryAfter.parse(value) {
            return String(OutsideNumber.wholeSeconds(wait))
        }
        if let ms = headers.first(name: "retry-after-ms"), let wait = OutsideNumber.duration(millisecondsText: ms) {
            return String(OutsideNumber.wholeSeconds(wait))
        }
        return nil
    }
}

/// OpenAI's SSE stream: each `data:` is a chunk; `[DONE]` ends it.
struct OpenAIStreamDecoder: ChatStreamDecoder {
    var sse = SSEDecoder()

    mutating func feed(_ buffer: ByteBuffer) throws(GatewayError) -> [StreamChunk] {
        let events = try sse.feed(buffer.readableBytesView)
        var chunks: [StreamChunk] = []
        for event in events { chunks.append(try Self.chunk(event)) }
        return chunks
    }

    mutating func finish() throws(GatewayError) -> [StreamChunk] {
        guard let event = sse.finish() else { return [] }
        return [try Self.chunk(event)]
    }

    static func chunk(_ event: SSEEvent) throws(GatewayError) -> StreamChunk {
        if event.data == Array("[DONE]".utf8) { return .done }
        guard let json = try? JSONParser.parse(event.data), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream stream sent an event that is not a JSON object.")
        }
        return .chunk(object, raw: event.data)
    }
}
