import Foundation
import HTTPTypes
import Telemetry

/// The gateway's own fields of a request (LiteLLM's names), parsed once and taken out of the body
/// before it is translated: they steer the gateway, not the provider.
struct RequestOptions: Sendable {
    /// `fallbacks` and `disable_fallbacks`.
    var fallbacks = Fallbacks.Override()
    /// `tags` (or the `x-litellm-tags` / `x-spanway-tags` headers) and `metadata.tags`: recorded
    /// on the request; they choose deployments only with `enable_tag_filtering`.
    var tags: [String] = []
    /// The conversation the request belongs to.
    var sessionID: String?
    /// `timeout`, `request_timeout`, `stream_timeout` and their `x-litellm-*` headers.
    var timeouts = RequestTimeouts()
    /// `num_retries` or `x-litellm-num-retries`: in place of the configured `num_retries`.
    var numRetries: Int?
    /// Whether the answer carries `reasoning_content`.
    var includeReasoning = false
    /// `x-spanway-eval-run-id` and `x-spanway-eval-item-id`: the evaluation the request is part of.
    var evaluation: EvaluationLabel?
    /// LiteLLM's gateway-only parameters (`mock_response`, `metadata`, cache switches).
    var client = ClientParams()

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
        // The Responses API's `metadata` is the caller's own, kept with the response: read like
        // LiteLLM's (tags, session, sinks), it still goes upstream as sent.
        let responseMetadata = request.operation == .responses ? request.body["metadata"] : nil
        defer { if let responseMetadata { request.body["metadata"] = responseMetadata } }
        fallbacks = try Self.takeFallbacks(&request.body)
        tags = try Self.takeTags(&request.body, headers: headers)
        sessionID = Self.sessionID(request.body, headers: headers)
        timeouts = try Self.takeTimeouts(&request.body, headers: headers)
        numRetries = try Self.takeNumRetries(&request.body, headers: headers)
        evaluation = try Self.evaluation(headers)
        // After tags and session, which it leaves out of the recorded metadata.
        client = try ClientParams(taking: &request.body)
        includeReasoning =
            reasoningByDefault
            || headers.value(Self.reasoningContentHeader).map { ["true", "1"].contains($0.lowercased()) } ?? false
    }

    /// `fallbacks` (model names, or LiteLLM's config form `[{"<group>": ["<fallback>", …]}]`) and
    /// `disable_fallbacks` (a boolean).
    private static func takeFallbacks(_ body: inout JSONObject) throws(GatewayError) -> Fallbacks.Override {
        var override = Fallbacks.Override()
        if let value = body["fallbacks"], !value.isNull {
            let shape =
                "'fallbacks' must be an array of model names, or of objects each mapping one model name to an array of "
                + "model names."
            guard let list = value.arrayValue, list.count <= maxFallbackEntries else {
                throw .invalidRequest(shape, param: "fallbacks")
            }
            if list.allSatisfy({ $0.stringValue != nil }) {
                override.groups = list.compactMap(\.stringValue)
            } else {
                override.keyed = try keyedFallbacks(list, shape: shape)
            }
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

    /// More entries than this is a mistake or an attempt to multiply upstream traffic.
    static let maxFallbackEntries = 64

    /// The config form: every entry an object with exactly one key, whose value is an array of
    /// names; a group named twice is refused rather than one entry silently shadowing the other.
    private static func keyedFallbacks(_ list: [JSONValue], shape: String) throws(GatewayError) -> [String: [String]] {
        var keyed: [String: [String]] = [:]
        for entry in list {
            guard let object = entry.objectValue, object.members.count == 1, let member = object.members.first,
                let names = member.value.arrayValue, names.count <= maxFallbackEntries,
                names.allSatisfy({ $0.stringValue != nil }), keyed[member.key] == nil
            else { throw .invalidRequest(shape, param: "fallbacks") }
            keyed[member.key] = names.compactMap(\.stringValue)
        }
        return keyed
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
}
