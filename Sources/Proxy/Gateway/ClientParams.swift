import Telemetry

/// LiteLLM's request parameters that steer the gateway and must never reach a provider:
/// `mock_response`, `metadata` (what is left of it once tags and session are read), the cache
/// switches, its mock-testing switches and the internal fields LiteLLM strips.
struct ClientParams: Sendable {
    /// `mock_response`: the answer to give without calling the upstream, when the caller's key or
    /// team allows it (`allow_client_mock_response`); otherwise dropped, as LiteLLM does.
    var mockResponse: String?
    /// `metadata` and `litellm_metadata`, string values, for the sinks (Langfuse names, webhook
    /// payloads, span attributes).
    var metadata: [String: String] = [:]

    /// LiteLLM refuses these outright on a proxy (its mock-testing switches).
    static let mockTesting = [
        "mock_testing_fallbacks", "mock_testing_context_fallbacks", "mock_testing_content_policy_fallbacks",
        "mock_timeout", "mock_testing_rate_limit_error",
    ]
    /// LiteLLM drops these without a word: internal plumbing a client may echo back.
    static let stripped = [
        "weights", "fallback_depth", "callbacks", "logger_fn", "proxy_server_request", "secret_fields",
        "disable_global_guardrails", "client_side_timeout", "mock_tool_calls", "litellm_session_id",
    ]
    /// Metadata keys a client could use to pass itself off as another key or caller; LiteLLM
    /// strips them too.
    static func spoofable(_ key: String) -> Bool {
        key.hasPrefix("user_api_key") || ["headers", "endpoint", "requester_ip_address", "litellm_api_version"].contains(key)
    }
    /// Bounds on what the sinks carry per request.
    static let maxMetadataKeys = 32
    static let maxMetadataValueBytes = 1024
    static let maxMetadataKeyBytes = 128

    init() {}

    init(taking body: inout JSONObject) throws(GatewayError) {
        if let name = Self.mockTesting.first(where: { body[$0] != nil }) {
            throw .invalidRequest("Mock testing request params are disabled on this proxy: \(name).", param: name)
        }
        if let value = body["mock_response"], !value.isNull {
            guard let text = value.stringValue else {
                throw .invalidRequest("'mock_response' must be a string.", param: "mock_response")
            }
            mockResponse = text
        }
        body["mock_response"] = nil
        try Self.refuseCaching(body)
        body["caching"] = nil
        body["cache"] = nil
        for name in Self.stripped { body[name] = nil }
        for name in body.keys where name.hasPrefix("user_api_key") { body[name] = nil }
        for field in ["litellm_metadata", "metadata"] {
            guard let value = body[field], !value.isNull else { continue }
            body[field] = nil
            guard let object = value.objectValue else {
                throw .invalidRequest("'\(field)' must be an object.", param: field)
            }
            for (key, value) in object.members where !Self.spoofable(key) && key != "tags" {
                guard key.utf8.count <= Self.maxMetadataKeyBytes else {
                    throw .invalidRequest(
                        "'\(field)' keys must be at most \(Self.maxMetadataKeyBytes) bytes.", param: field)
                }
                guard metadata.count < Self.maxMetadataKeys else {
                    throw .invalidRequest("'\(field)' has more than \(Self.maxMetadataKeys) keys.", param: field)
                }
                let text = value.stringValue ?? String(decoding: value.encoded(), as: UTF8.self)
                guard text.utf8.count <= Self.maxMetadataValueBytes else {
                    throw .invalidRequest(
                        "'\(field).\(key)' is longer than \(Self.maxMetadataValueBytes) bytes.", param: "\(field).\(key)")
                }
                metadata[key] = text
            }
        }
    }

    /// No response cache exists yet, so a request that asks for one is refused rather than
    /// silently answered fresh (and charged); asking not to be served from a cache is fine.
    private static func refuseCaching(_ body: JSONObject) throws(GatewayError) {
        if body["caching"]?.boolValue == true {
            throw .invalidRequest(
                "Response caching is not available on this gateway; remove 'caching'.", param: "caching",
                code: "caching_not_supported")
        }
        if let cache = body["cache"], !cache.isNull {
            guard let controls = cache.objectValue else {
                throw .invalidRequest("'cache' must be an object.", param: "cache")
            }
            let asksForCache = controls.members.contains { key, value in
                !["no-cache", "no-store"].contains(key) && !value.isNull
            }
            if asksForCache {
                throw .invalidRequest(
                    "Response caching is not available on this gateway; only 'no-cache' and 'no-store' are accepted in "
                        + "'cache'.", param: "cache", code: "caching_not_supported")
            }
        }
    }
}
