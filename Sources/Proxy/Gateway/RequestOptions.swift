import Foundation
import HTTPTypes
import Telemetry

/// The gateway's own fields of a request (LiteLLM's names), parsed once and taken out of the body
/// before it is translated: they steer the gateway, not the provider.
struct RequestOptions: Sendable {
    /// `fallbacks` and `disable_fallbacks`.
    var fallbacks = Fallbacks.Override()
    /// `x-spanway-tags` (comma-separated) and `metadata.tags`: routing tags.
    var tags: [String] = []
    /// The conversation the request belongs to.
    var sessionID: String?
    /// `timeout`, in seconds in the body.
    var timeout: Duration?
    /// Whether the answer carries `reasoning_content`.
    var includeReasoning = false
    /// `x-spanway-eval-run-id` and `x-spanway-eval-item-id`: the evaluation the request is part of.
    var evaluation: EvaluationLabel?

    /// A client opts in to `reasoning_content` per request with this header (`true`), or every
    /// client does with `spanway_settings.reasoning_content: true`.
    static let reasoningContentHeader = "x-spanway-reasoning-content"
    static let tagsHeader = "x-spanway-tags"
    static let sessionHeaders = ["x-spanway-session-id", "x-litellm-session-id"]
    static let evalRunHeader = "x-spanway-eval-run-id"
    static let evalItemHeader = "x-spanway-eval-item-id"

    /// Reads the options from the headers and the body, taking the gateway's fields out of the
    /// body. Errors name the field.
    init(taking request: inout OpenAIRequest, headers: HTTPFields, reasoningByDefault: Bool) throws(GatewayError) {
        fallbacks = try Self.takeFallbacks(&request.body)
        tags = try Self.takeTags(&request.body, headers: headers)
        sessionID = Self.sessionID(request.body, headers: headers)
        timeout = try Self.takeTimeout(&request.body)
        evaluation = try Self.evaluation(headers)
        includeReasoning =
            reasoningByDefault
            || headers.value(Self.reasoningContentHeader).map { ["true", "1"].contains($0.lowercased()) } ?? false
    }

    /// `fallbacks` (model names) and `disable_fallbacks` (a boolean).
    private static func takeFallbacks(_ body: inout JSONObject) throws(GatewayError) -> Fallbacks.Override {
        var override = Fallbacks.Override()
        if let value = body["fallbacks"], !value.isNull {
            guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("'fallbacks' must be an array of model names.", param: "fallbacks")
            }
            override.groups = list.compactMap(\.stringValue)
        }
        if let value = body["disable_fallbacks"], !value.isNull {
            guard let disabled = value.boolValue else {
                throw .invalidRequest("'disable_fallbacks' must be a boolean.", param: "disable_fallbacks")
            }
            override.disabled = disabled
        }
        body["fallbacks"] = nil
        body["disable_fallbacks"] = nil
        return override
    }

    /// The header's tags and the body's `metadata.tags`, which leaves the body (an empty
    /// `metadata` with it).
    private static func takeTags(_ body: inout JSONObject, headers: HTTPFields) throws(GatewayError) -> [String] {
        var tags =
            headers.value(tagsHeader).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        if var metadata = body["metadata"]?.objectValue, let value = metadata["tags"] {
            guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("'metadata.tags' must be an array of strings.", param: "metadata.tags")
            }
            tags += list.compactMap(\.stringValue)
            metadata["tags"] = nil
            body["metadata"] = metadata.isEmpty ? nil : .object(metadata)
        }
        return tags.filter { !$0.isEmpty }
    }

    /// A session header, or the body's `metadata.session_id` / `litellm_session_id`.
    private static func sessionID(_ body: JSONObject, headers: HTTPFields) -> String? {
        for name in sessionHeaders {
            if let value = headers.value(name), !value.isEmpty { return value }
        }
        return body["metadata"]?["session_id"]?.stringValue ?? body["litellm_session_id"]?.stringValue
    }

    /// Both evaluation headers or neither; each a percent-encoded id of 1 to 128 bytes with no
    /// control characters, since they land in spans and ledger rows.
    private static func evaluation(_ headers: HTTPFields) throws(GatewayError) -> EvaluationLabel? {
        let run = headers.value(evalRunHeader)
        let item = headers.value(evalItemHeader)
        guard run != nil || item != nil else { return nil }
        var ids: [String] = []
        for (name, value) in [(evalRunHeader, run), (evalItemHeader, item)] {
            guard let id = value.flatMap(EvaluationLabel.id(fromHeader:)) else {
                throw .invalidRequest(
                    "'\(name)' must be a percent-encoded id of 1 to 128 bytes; '\(evalRunHeader)' and "
                        + "'\(evalItemHeader)' come together.", param: name)
            }
            ids.append(id)
        }
        return EvaluationLabel(runID: ids[0], itemID: ids[1])
    }

    /// Seconds, more than 0 and at most a day.
    private static func takeTimeout(_ body: inout JSONObject) throws(GatewayError) -> Duration? {
        guard let value = body["timeout"], !value.isNull else { return nil }
        guard let seconds = value.doubleValue, seconds > 0, seconds <= 86_400 else {
            throw .invalidRequest("'timeout' must be a number of seconds greater than 0.", param: "timeout")
        }
        body["timeout"] = nil
        return .milliseconds(Int64(seconds * 1000))
    }
}
