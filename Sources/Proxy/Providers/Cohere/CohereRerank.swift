import Telemetry

/// LiteLLM's rerank request (Cohere's v1 superset) sent to Cohere's `/v2/rerank`, and the answer
/// made LiteLLM's again (https://docs.cohere.com/reference/rerank).
enum CohereRerank {
    /// v2 takes strings only: a document object becomes its `text`, or its fields as YAML-like
    /// `key: value` lines (Cohere's advice), in `rank_fields` order when given. `rank_fields`
    /// and `max_chunks_per_doc` (v1 only) are not sent.
    static func request(_ body: JSONObject, model: String) -> JSONObject {
        let rankFields = body["rank_fields"]?.arrayValue?.compactMap(\.stringValue)
        var out: JSONObject = [
            "model": .string(model), "query": body["query"] ?? .string(""),
            "documents": .array(documents(body).map { .string(text(of: $0, fields: rankFields)) }),
        ]
        for field in ["top_n", "max_tokens_per_doc", "priority"] where body[field] != nil { out[field] = body[field] }
        return out
    }

    static func documents(_ body: JSONObject) -> [JSONValue] { body["documents"]?.arrayValue ?? [] }

    static func text(of document: JSONValue, fields: [String]?) -> String {
        if let text = document.stringValue { return text }
        guard let object = document.objectValue else { return "" }
        if fields == nil, let text = object["text"]?.stringValue { return text }
        let names = fields ?? object.keys.sorted()
        return names.compactMap { name in
            object[name].map { "\(name): \($0.stringValue ?? String(decoding: $0.encoded(), as: UTF8.self))" }
        }.joined(separator: "\n")
    }

    /// Cohere's results, with `document: {text}` put back when the client asked for
    /// `return_documents` (v2 never returns them).
    static func reply(_ bytes: [UInt8], for request: OpenAIRequest) throws(GatewayError) -> ProviderReply {
        guard var object = (try? JSONParser.parse(bytes, limits: .upstreamResponse))?.objectValue,
            let results = object["results"]?.arrayValue
        else {
            throw .badUpstreamResponse("Cohere's rerank answer has no 'results' array.")
        }
        if request.body["return_documents"]?.boolValue == true {
            let documents = documents(request.body)
            let fields = request.body["rank_fields"]?.arrayValue?.compactMap(\.stringValue)
            object["results"] = .array(
                results.map { result in
                    guard var result = result.objectValue, let index = result["index"]?.intValue,
                        documents.indices.contains(index)
                    else { return result }
                    result["document"] = .object(["text": .string(text(of: documents[index], fields: fields))])
                    return .object(result)
                })
        }
        let units = BilledUnits(queries: object["meta"]?["billed_units"]?["search_units"]?.doubleValue ?? 1)
        return ProviderReply(
            body: JSONValue.object(object).encoded(), usage: nil, responseID: object["id"]?.stringValue,
            responseModel: nil, finishReasons: [], units: units)
    }
}
