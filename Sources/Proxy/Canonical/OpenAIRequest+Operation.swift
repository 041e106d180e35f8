import Telemetry

extension OpenAIRequest.Operation {
    /// `gen_ai.operation.name`: the GenAI conventions' value where one applies (a Responses call
    /// is a chat; an image is generated content), else the operation's own name. Spans, the
    /// ledger and the Prometheus series carry it.
    public var genAIName: String {
        switch self {
        case .chat, .responses: "chat"
        case .embeddings: "embeddings"
        case .textCompletion: "text_completion"
        case .imageGeneration: "generate_content"
        case .audioSpeech, .audioTranscription, .audioTranslation, .rerank, .moderation: rawValue
        }
    }

    /// The OpenAI path the operation is served on (without `/v1`), for messages.
    public var endpoint: String {
        switch self {
        case .chat: "/v1/chat/completions"
        case .embeddings: "/v1/embeddings"
        case .responses: "/v1/responses"
        case .textCompletion: "/v1/completions"
        case .imageGeneration: "/v1/images/generations"
        case .audioSpeech: "/v1/audio/speech"
        case .audioTranscription: "/v1/audio/transcriptions"
        case .audioTranslation: "/v1/audio/translations"
        case .rerank: "/v1/rerank"
        case .moderation: "/v1/moderations"
        }
    }

    /// The `model_info.mode` values (LiteLLM's) of deployments that serve this operation.
    var modes: Set<String> {
        switch self {
        case .chat, .responses: ["chat", "responses"]
        case .textCompletion: ["completion", "chat", "responses"]
        case .embeddings: ["embedding"]
        case .imageGeneration: ["image_generation"]
        case .audioSpeech: ["audio_speech"]
        case .audioTranscription, .audioTranslation: ["audio_transcription"]
        case .rerank: ["rerank"]
        case .moderation: ["moderation"]
        }
    }

    /// Whether a request may ask for a streamed answer (`stream: true`): chat, Responses and
    /// completions; images and transcripts where the provider streams them natively.
    var streams: Bool {
        switch self {
        case .chat, .responses, .textCompletion, .imageGeneration, .audioTranscription: true
        case .embeddings, .audioSpeech, .audioTranslation, .rerank, .moderation: false
        }
    }
}

/// The checks the gateway makes on the JSON bodies of images, speech, rerank and moderations:
/// the fields it relies on, each error naming its field. The rest goes upstream as written.
enum EndpointRequests {
    static func validate(_ operation: OpenAIRequest.Operation, _ body: JSONObject) throws(GatewayError) {
        if body["stream"]?.boolValue == true, !operation.streams {
            throw .invalidRequest("Streaming is not supported on \(operation.endpoint).", param: "stream")
        }
        switch operation {
        case .imageGeneration:
            try OpenAIRequest.require(body, "prompt", as: "a string", \.stringValue)
            try OpenAIRequest.optional(body, "n", as: "an integer", \.intValue)
            if let n = body["n"]?.intValue, !(1...10).contains(n) {
                throw .invalidRequest("'n' must be between 1 and 10.", param: "n")
            }
        case .audioSpeech:
            let input = try OpenAIRequest.require(body, "input", as: "a string", \.stringValue)
            guard !input.isEmpty else { throw .invalidRequest("'input' must not be empty.", param: "input") }
            guard body["voice"] != nil else { throw .invalidRequest("'voice' is required.", param: "voice") }
            try OpenAIRequest.optional(body, "speed", as: "a number", \.doubleValue)
        case .rerank:
            try OpenAIRequest.require(body, "query", as: "a string", \.stringValue)
            let documents = try OpenAIRequest.require(body, "documents", as: "an array", \.arrayValue)
            guard !documents.isEmpty else {
                throw .invalidRequest("'documents' must contain at least one document.", param: "documents")
            }
            for (index, document) in documents.enumerated()
            where document.stringValue == nil && document["text"]?.stringValue == nil && document.objectValue == nil {
                throw .invalidRequest(
                    "'documents[\(index)]' must be a string or an object, found \(document.typeName).",
                    param: "documents[\(index)]")
            }
            try OpenAIRequest.optional(body, "top_n", as: "an integer", \.intValue)
            if let topN = body["top_n"]?.intValue, topN < 1 {
                throw .invalidRequest("'top_n' must be at least 1.", param: "top_n")
            }
        case .moderation:
            guard let input = body["input"], input.stringValue != nil || !(input.arrayValue ?? []).isEmpty else {
                throw .invalidRequest("'input' is required: a string, or a non-empty array.", param: "input")
            }
        case .chat, .embeddings, .responses, .textCompletion, .audioTranscription, .audioTranslation:
            break
        }
    }
}

/// A Responses request as the gateway keeps it: the id its answer gets, and the turns of the
/// conversation it continues (`previous_response_id`) as chat messages.
public struct ResponsesTurn: Sendable {
    public var id: String
    public var createdAt: Int
    /// Earlier turns, oldest first, as chat messages (no instructions: they are not carried over).
    public var history: [JSONValue]
    /// The previous response, when the gateway produced it, with the deployment that did.
    public var previous: StoredResponse?
    /// Who may read this response back: the caller's key digest, or `master`.
    var owner: String
}

extension GatewayError {
    /// A 400 for a model whose deployments cannot serve the endpoint asked of it.
    static func notServed(_ operation: OpenAIRequest.Operation, model: String) -> GatewayError {
        .invalidRequest(
            "The model '\(model)' does not serve \(operation.endpoint): none of its deployments' providers can, or its model_info.mode says it is for another endpoint.",
            param: "model", code: "unsupported_endpoint")
    }
}
