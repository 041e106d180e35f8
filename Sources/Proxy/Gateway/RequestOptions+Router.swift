import Foundation
import HTTPTypes
import Telemetry

/// The request fields that steer the router (LiteLLM's names): retries, timeouts and tags.
extension RequestOptions {
    static let numRetriesHeader = "x-litellm-num-retries"
    static let timeoutHeader = "x-litellm-timeout"
    static let streamTimeoutHeader = "x-litellm-stream-timeout"
    static let liteLLMTagsHeader = "x-litellm-tags"
    /// More retries than this is a mistake or an attempt to multiply upstream traffic.
    static let maxNumRetries = 100

    /// `num_retries` in the body, or the `x-litellm-num-retries` header, which wins as in LiteLLM.
    static func takeNumRetries(_ body: inout JSONObject, headers: HTTPFields) throws(GatewayError) -> Int? {
        var retries: Int?
        if let value = body["num_retries"], !value.isNull {
            guard let count = value.intValue, (0...maxNumRetries).contains(count) else {
                throw .invalidRequest(
                    "'num_retries' must be an integer from 0 to \(maxNumRetries).", param: "num_retries")
            }
            retries = count
        }
        body["num_retries"] = nil
        if let text = headers.value(numRetriesHeader) {
            guard let count = Int(text.trimmingCharacters(in: .whitespaces)), (0...maxNumRetries).contains(count) else {
                throw .invalidRequest(
                    "'\(numRetriesHeader)' must be an integer from 0 to \(maxNumRetries).", param: numRetriesHeader)
            }
            retries = count
        }
        return retries
    }

    /// `timeout`, `request_timeout` and `stream_timeout` (seconds) in the body, and the
    /// `x-litellm-timeout` / `x-litellm-stream-timeout` headers, which win over the body as in
    /// LiteLLM. All leave the body: they are the gateway's, not the provider's.
    static func takeTimeouts(_ body: inout JSONObject, headers: HTTPFields) throws(GatewayError) -> RequestTimeouts {
        var timeouts = RequestTimeouts()
        timeouts.timeout = try seconds(body["timeout"], name: "timeout")
        timeouts.requestTimeout = try seconds(body["request_timeout"], name: "request_timeout")
        timeouts.streamTimeout = try seconds(body["stream_timeout"], name: "stream_timeout")
        for name in ["timeout", "request_timeout", "stream_timeout"] { body[name] = nil }
        if let text = headers.value(timeoutHeader) {
            timeouts.timeout = try seconds(.string(text), name: timeoutHeader)
        }
        if let text = headers.value(streamTimeoutHeader) {
            timeouts.streamTimeout = try seconds(.string(text), name: streamTimeoutHeader)
        }
        return timeouts
    }

    /// Seconds, more than 0 and at most a day; a header's text is parsed as a number.
    private static func seconds(_ value: JSONValue?, name: String) throws(GatewayError) -> Duration? {
        guard let value, !value.isNull else { return nil }
        let number = value.doubleValue ?? value.stringValue.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard let seconds = number, seconds > 0, seconds <= 86_400 else {
            throw .invalidRequest("'\(name)' must be a number of seconds greater than 0 and at most 86400.", param: name)
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The request's tags: the body's `tags` (which replace the `x-litellm-tags` and
    /// `x-spanway-tags` headers, as LiteLLM's body `tags` replace its header), then
    /// `metadata.tags`; each once, in order. `tags` and `metadata.tags` leave the body (an empty
    /// `metadata` with them).
    static func takeTags(_ body: inout JSONObject, headers: HTTPFields) throws(GatewayError) -> [String] {
        var tags: [String] = []
        for name in [liteLLMTagsHeader, tagsHeader] {
            for field in headers where field.name.canonicalName == name {
                tags += field.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        if let value = body["tags"], !value.isNull {
            tags = try strings(value, param: "tags")
        }
        body["tags"] = nil
        if var metadata = body["metadata"]?.objectValue, let value = metadata["tags"] {
            if !value.isNull { tags += try strings(value, param: "metadata.tags") }
            metadata["tags"] = nil
            body["metadata"] = metadata.isEmpty ? nil : .object(metadata)
        }
        var seen = Set<String>()
        let unique = tags.filter { !$0.isEmpty && seen.insert($0).inserted }
        // Tags go to every span, ledger row and sink: bounded like the other fields that do.
        guard unique.count <= maxTags, unique.allSatisfy({ $0.utf8.count <= maxTagBytes }) else {
            throw .invalidRequest("At most \(maxTags) tags of at most \(maxTagBytes) bytes each.", param: "tags")
        }
        return unique
    }

    static let maxTags = 64
    static let maxTagBytes = 256

    private static func strings(_ value: JSONValue, param: String) throws(GatewayError) -> [String] {
        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidRequest("'\(param)' must be an array of strings.", param: param)
        }
        return list.compactMap(\.stringValue)
    }
}
