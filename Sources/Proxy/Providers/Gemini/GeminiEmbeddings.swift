import Telemetry

/// OpenAI embeddings through Gemini: AI Studio's `:batchEmbedContents` or Vertex's `:predict`
/// (https://ai.google.dev/api/embeddings), answered in OpenAI's list shape.
enum GeminiEmbeddings {
    static func request(_ request: OpenAIRequest, model: String, platform: GeminiAdapter.Platform) throws(GatewayError)
        -> JSONObject
    {
        let texts = try EmbeddingsTranslation.texts(request, provider: "Gemini")
        if let format = request.body["encoding_format"]?.stringValue, format != "float", format != "base64" {
            throw .invalidRequest("'encoding_format' must be float or base64.", param: "encoding_format")
        }
        let dimensions = request.body["dimensions"]?.intValue
        switch platform {
        case .aiStudio:
            return [
                "requests": .array(
                    texts.map { text in
                        var item: JSONObject = [
                            "model": .string("models/\(model)"),
                            "content": .object(["parts": .array([.object(["text": .string(text)])])]),
                        ]
                        if let dimensions { item["outputDimensionality"] = .int(dimensions) }
                        return .object(item)
                    })
            ]
        case .vertexAI:
            var out: JSONObject = ["instances": .array(texts.map { .object(["content": .string($0)]) })]
            if let dimensions { out["parameters"] = .object(["outputDimensionality": .int(dimensions)]) }
            return out
        }
    }

    /// Vertex counts tokens per input; AI Studio counts none, so its usage stays unknown.
    static func reply(_ body: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body, limits: .upstreamResponse), let object = json.objectValue else {
            throw .badUpstreamResponse("The upstream answered with a body that is not a Gemini embeddings response.")
        }
        let vectors: [JSONValue]
        var tokens: Int?
        if let embeddings = object["embeddings"]?.arrayValue {
            vectors = embeddings.map { $0["values"] ?? .null }
        } else if let predictions = object["predictions"]?.arrayValue {
            vectors = predictions.map { $0["embeddings"]?["values"] ?? .null }
            tokens = predictions.reduce(0) { $0 + ($1["embeddings"]?["statistics"]?["token_count"]?.tokenCount ?? 0) }
        } else {
            throw .badUpstreamResponse("The upstream's Gemini embeddings response has neither 'embeddings' nor 'predictions'.")
        }
        let reply = try EmbeddingsTranslation.openAIBody(
            vectors: vectors, model: request.model, promptTokens: tokens, for: request)
        return ProviderReply(
            body: reply, usage: tokens.map { Usage(inputTokens: $0, outputTokens: 0) }, responseID: nil,
            responseModel: request.model, finishReasons: [])
    }
}
