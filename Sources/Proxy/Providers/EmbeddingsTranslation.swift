import Foundation
import Telemetry

/// The two ends of an embeddings call to a provider whose embedding API has its own shape
/// (Cohere, Ollama): the texts out of an OpenAI request, and OpenAI's
/// `{"object":"list","data":[…],"model","usage"}` answer built from the vectors that came back.
enum EmbeddingsTranslation {
    /// The request's `input` as texts. Token-id arrays are OpenAI-only: other providers
    /// tokenise themselves, so they are refused by name rather than sent as numbers.
    static func texts(_ request: OpenAIRequest, provider: String) throws(GatewayError) -> [String] {
        switch request.body["input"] {
        case .string(let text)?:
            return [text]
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
            return items.compactMap(\.stringValue)
        default:
            throw .invalidRequest("'input' must be a string or an array of strings for \(provider) models.", param: "input")
        }
    }

    /// Vectors are passed through number for number, exactly as the upstream wrote them, unless
    /// the client asked for `encoding_format: base64` (what the OpenAI Python SDK sends by
    /// default): then each vector becomes its little-endian float32 bytes in base64, as OpenAI's own
    /// API encodes them.
    static func openAIBody(vectors: [JSONValue], model: String, promptTokens: Int?, for request: OpenAIRequest)
        throws(GatewayError) -> [UInt8]
    {
        let base64 = request.body["encoding_format"]?.stringValue == "base64"
        var data: [JSONValue] = []
        for (index, vector) in vectors.enumerated() {
            guard let numbers = vector.arrayValue, numbers.allSatisfy({ $0.doubleValue != nil }) else {
                throw .badUpstreamResponse("The upstream's embedding \(index) is not an array of numbers.")
            }
            let embedding: JSONValue = base64 ? .string(encodeFloat32(numbers)) : .array(numbers)
            data.append(.object(["object": "embedding", "index": .int(index), "embedding": embedding]))
        }
        var list: JSONObject = ["object": "list", "data": .array(data), "model": .string(model)]
        if let promptTokens {
            list["usage"] = CanonicalUsage.embeddingsJSON(promptTokens: promptTokens)
        }
        return JSONValue.object(list).encoded()
    }

    private static func encodeFloat32(_ numbers: [JSONValue]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(numbers.count * 4)
        for number in numbers {
            let bits = Float(number.doubleValue ?? 0).bitPattern
            bytes += [
                UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24),
            ]
        }
        return Data(bytes).base64EncodedString()
    }
}
