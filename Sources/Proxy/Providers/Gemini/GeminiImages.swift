import Foundation
import Telemetry

/// OpenAI's image generation sent to Imagen (`models/{model}:predict`, on AI Studio and Vertex
/// AI alike) and its predictions made OpenAI's `data` again.
/// https://ai.google.dev/gemini-api/docs/imagen, https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api
enum GeminiImages {
    /// Imagen's aspect ratios; an OpenAI `size` maps to the nearest.
    static let aspectRatios: [(name: String, value: Double)] = [
        ("1:1", 1), ("3:4", 0.75), ("4:3", 4.0 / 3), ("9:16", 9.0 / 16), ("16:9", 16.0 / 9),
    ]

    static func request(_ body: JSONObject) throws(GatewayError) -> JSONObject {
        guard let prompt = body["prompt"]?.stringValue else {
            throw .invalidRequest("'prompt' is required.", param: "prompt")
        }
        if body["stream"]?.boolValue == true {
            throw .invalidRequest("Imagen does not stream images: leave 'stream' out.", param: "stream")
        }
        var parameters: JSONObject = ["sampleCount": .int(body["n"]?.intValue ?? 1)]
        if let size = body["size"]?.stringValue, size != "auto" {
            let sides = size.split(separator: "x").compactMap { Double($0) }
            guard sides.count == 2, sides[0] > 0, sides[1] > 0 else {
                throw .invalidRequest("'size' must be 'auto' or WIDTHxHEIGHT, found '\(size)'.", param: "size")
            }
            let ratio = sides[0] / sides[1]
            let nearest = aspectRatios.min { abs($0.value - ratio) < abs($1.value - ratio) }
            parameters["aspectRatio"] = nearest.map { .string($0.name) } ?? .null
        }
        if let format = body["output_format"]?.stringValue {
            parameters["outputOptions"] = .object(["mimeType": .string("image/\(format == "jpg" ? "jpeg" : format)")])
        }
        return ["instances": .array([.object(["prompt": .string(prompt)])]), "parameters": .object(parameters)]
    }

    static func reply(_ bytes: [UInt8]) throws(GatewayError) -> ProviderReply {
        guard let object = (try? JSONParser.parse(bytes, limits: .upstreamResponse))?.objectValue,
            let predictions = object["predictions"]?.arrayValue
        else {
            throw .badUpstreamResponse("Imagen's answer has no 'predictions' array.")
        }
        // Filtered images come back without bytes (with a reason): only images are returned.
        let data = predictions.compactMap { prediction -> JSONValue? in
            prediction["bytesBase64Encoded"]?.stringValue.map { .object(["b64_json": .string($0)]) }
        }
        let body: JSONValue = .object(["created": .int(Int(Date().timeIntervalSince1970)), "data": .array(data)])
        return ProviderReply(
            body: body.encoded(), usage: nil, responseID: nil, responseModel: nil, finishReasons: [],
            units: BilledUnits(images: data.count))
    }
}
