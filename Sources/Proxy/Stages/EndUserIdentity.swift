import HTTPTypes
import Telemetry

/// Who a request is for, as LiteLLM 1.108.7 finds its end user (`get_end_user_id_from_request_body`
/// in `proxy/auth/auth_utils.py`): the headers `x-litellm-customer-id` and
/// `x-litellm-end-user-id`, then the body's `user` (OpenAI's field), `litellm_metadata.user`,
/// `metadata.user_id` and `safety_identifier`. Numbers count as ids; blank text, booleans and
/// structures do not.
enum EndUserIdentity {
    static let headers = ["x-litellm-customer-id", "x-litellm-end-user-id"]

    static func id(headers fields: HTTPFields, body: JSONObject) -> String? {
        for name in headers {
            if let value = fields.value(name), let id = text(.string(value)) { return id }
        }
        let candidates: [JSONValue?] = [
            body["user"], object(body["litellm_metadata"])?["user"], object(body["metadata"])?["user_id"],
            body["safety_identifier"],
        ]
        for candidate in candidates {
            if let candidate, let id = text(candidate) { return id }
        }
        return nil
    }

    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        case .number(let number): return number
        default: return nil
        }
    }

    /// An object, or an object sent as JSON text (multipart forms carry metadata so).
    private static func object(_ value: JSONValue?) -> JSONObject? {
        if let object = value?.objectValue { return object }
        guard let text = value?.stringValue, let parsed = try? JSONParser.parse(text) else { return nil }
        return parsed.objectValue
    }
}
