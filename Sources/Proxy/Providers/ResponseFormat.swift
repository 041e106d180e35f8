import Telemetry

/// OpenAI's `response_format`, checked once for the providers that take a JSON mode or a schema
/// in a shape of their own (Cohere, Ollama). Refusals name the field.
/// https://platform.openai.com/docs/api-reference/chat/create#chat-create-response_format
enum ResponseFormat: Equatable {
    case jsonObject
    case jsonSchema(JSONValue)

    /// Nil for plain text, asked for or not.
    static func parse(_ format: JSONValue?) throws(GatewayError) -> ResponseFormat? {
        guard let format, !format.isNull else { return nil }
        switch format["type"]?.stringValue {
        case "text"?:
            return nil
        case "json_object"?:
            return .jsonObject
        case "json_schema"?:
            guard let schema = format["json_schema"]?["schema"], schema.objectValue != nil else {
                throw .invalidRequest(
                    "'response_format.json_schema.schema' must be an object.", param: "response_format.json_schema.schema")
            }
            return .jsonSchema(schema)
        default:
            throw .invalidRequest(
                "'response_format.type' must be text, json_object or json_schema.", param: "response_format.type")
        }
    }
}

/// OpenAI's `reasoning_effort`, for providers that turn it into a thinking switch or budget of
/// their own (Cohere, Ollama).
enum ReasoningEffort: String {
    case off = "none"
    case minimal, low, medium, high

    static func parse(_ effort: JSONValue) throws(GatewayError) -> ReasoningEffort {
        guard let value = effort.stringValue.flatMap(ReasoningEffort.init(rawValue:)) else {
            throw .invalidRequest("'reasoning_effort' must be none, minimal, low, medium or high.", param: "reasoning_effort")
        }
        return value
    }
}
