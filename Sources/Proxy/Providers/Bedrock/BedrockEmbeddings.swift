import Foundation
import Telemetry

/// OpenAI embeddings through Bedrock's InvokeModel, whose body is the model vendor's own: Amazon
/// Titan (`inputText`, one text per call) and Cohere Embed (`texts`, a batch). Other embedding
/// models on Bedrock are refused by name.
enum BedrockEmbeddings {
    enum Family {
        case titan
        case cohere
    }

    /// Works for base ids and inference profiles (`us.cohere.embed-v4:0`); ARNs name no vendor.
    static func family(of model: String) -> Family? {
        let id = model.lowercased()
        if id.contains("amazon.titan-embed") { return .titan }
        if id.contains("cohere.embed") { return .cohere }
        return nil
    }

    static func request(_ body: JSONObject, model: String, dropParams: Bool) throws(GatewayError) -> JSONObject {
        guard let family = family(of: model) else {
            throw .invalidRequest(
                "Bedrock embeddings work with Amazon Titan and Cohere Embed models; '\(model)' is neither.", param: "model")
        }
        if let format = body["encoding_format"]?.stringValue, format != "float", format != "base64", !dropParams {
            throw .invalidRequest("'encoding_format' must be float or base64.", param: "encoding_format")
        }
        let input = body["input"]
        let texts = input?.stringValue.map { [$0] } ?? input?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !texts.isEmpty, texts.count == input?.arrayValue?.count ?? 1 else {
            throw .invalidRequest(
                "'input' must be text (a string or an array of strings) for Bedrock models.", param: "input")
        }
        let dimensions = body["dimensions"]?.intValue
        switch family {
        case .titan:
            guard texts.count == 1 else {
                throw .invalidRequest(
                    "Titan embedding models take one text per request; send 'input' as one string.", param: "input")
            }
            var out: JSONObject = ["inputText": .string(texts[0])]
            if let dimensions { out["dimensions"] = .int(dimensions) }
            return out
        case .cohere:
            var out: JSONObject = [
                "texts": .array(texts.map(JSONValue.string)),
                "input_type": .string(body["input_type"]?.stringValue ?? "search_document"),
            ]
            if let dimensions { out["output_dimension"] = .int(dimensions) }
            return out
        }
    }

    /// Titan answers `{"embedding":[…],"inputTextTokenCount":n}`; Cohere `{"embeddings":[[…]]}`
    /// or, when embedding types were asked for, `{"embeddings":{"float":[[…]]}}`, with no token
    /// count in the body.
    static func parse(_ body: [UInt8], model: String, base64: Bool) throws(GatewayError) -> ProviderReply {
        guard let json = try? JSONParser.parse(body, limits: .upstreamResponse) else {
            throw .badUpstreamResponse("The upstream answered with a body that is not JSON.")
        }
        let vectors: [JSONValue]
        var usage: Usage?
        if let embedding = json["embedding"], embedding.arrayValue != nil {
            vectors = [embedding]
            usage = json["inputTextTokenCount"]?.tokenCount.map { Usage(inputTokens: $0, outputTokens: 0) }
        } else if let list = (json["embeddings"]?.arrayValue ?? json["embeddings"]?["float"]?.arrayValue) {
            vectors = list
        } else {
            throw .badUpstreamResponse("The upstream's answer has no 'embedding' or 'embeddings'.")
        }
        var data: [JSONValue] = []
        for (index, vector) in vectors.enumerated() {
            guard let numbers = vector.arrayValue, numbers.allSatisfy({ $0.doubleValue != nil }) else {
                throw .badUpstreamResponse("The upstream's embedding \(index) is not an array of numbers.")
            }
            data.append(
                .object([
                    "object": "embedding", "index": .int(index),
                    "embedding": base64 ? .string(Self.base64(numbers.compactMap(\.doubleValue))) : vector,
                ]))
        }
        var reply: JSONObject = ["object": "list", "data": .array(data), "model": .string(model)]
        if let usage {
            reply["usage"] = CanonicalUsage.embeddingsJSON(promptTokens: usage.inputTokens)
        }
        return ProviderReply(
            body: JSONValue.object(reply).encoded(), usage: usage, responseID: nil, responseModel: nil, finishReasons: [])
    }

    /// OpenAI's `encoding_format: base64` (the OpenAI SDKs' default): little-endian float32s.
    static func base64(_ values: [Double]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
