import Foundation
import Telemetry

/// The `langfuse.*` attributes that make a request's OTLP spans read well in Langfuse.
///
/// Langfuse's OTLP ingestion reads OTel GenAI attributes, but differs from them in ways the gateway
/// has to spell out: its `input` usage is the non-cached remainder, it ignores
/// `gen_ai.response.time_to_first_chunk`, and it takes trace-level facts (user, session, tags) only
/// from its own keys. Numbers come from the request summary, never re-derived from raw spans.
public enum LangfuseAttributes {
    /// Extra attributes for `span`, one of `request`'s spans, appended by the OTLP encoder.
    public static func extra(for span: SpanData, in request: FinishedSpan, includeContent: Bool) -> [SpanAttribute] {
        let summary = request.summary
        var out: [SpanAttribute] = []
        if let user = summary.endUser ?? summary.caller.userID {
            out.append(SpanAttribute("langfuse.user.id", .string(user)))
        }
        if let session = summary.sessionID { out.append(SpanAttribute("langfuse.session.id", .string(session))) }
        if !summary.tags.isEmpty { out.append(SpanAttribute("langfuse.trace.tags", .stringArray(summary.tags))) }
        out.append(SpanAttribute("langfuse.trace.name", .string(traceName(summary))))
        for (key, value) in metadata(summary) {
            out.append(SpanAttribute("langfuse.trace.metadata.\(key)", .string(value)))
        }
        for (key, value) in metadata(summary, observation: span) {
            out.append(SpanAttribute("langfuse.observation.metadata.\(key)", .string(value)))
        }

        if span.spanID == request.server.spanID {
            // Any gen_ai.* attribute on the SERVER span (operation, model) would make Langfuse take
            // it for a second generation; an explicit type keeps usage and cost counted once.
            out.append(SpanAttribute("langfuse.observation.type", .string("span")))
            // The trace's own input/output, so Langfuse's trace list shows them as the batch API does.
            if includeContent { out += content(summary.content, prefix: "langfuse.trace") }
            return out
        }

        if case .error(let message) = span.status {
            out.append(SpanAttribute("langfuse.observation.level", .string("ERROR")))
            out.append(SpanAttribute("langfuse.observation.status_message", .string(message)))
            return out
        }
        guard let answering = request.answering, answering.spanID == span.spanID else { return out }
        out.append(SpanAttribute("langfuse.observation.model.name", .string(modelName(of: span, summary: summary))))
        if let usage = summary.usage {
            out.append(
                SpanAttribute("langfuse.observation.usage_details", .string(usageDetails(usage).encodedString())))
        }
        if let cost = summary.costUSD {
            out.append(SpanAttribute("langfuse.observation.cost_details", .string(costDetails(cost).encodedString())))
        }
        out.append(
            SpanAttribute(
                "langfuse.observation.completion_start_time",
                .string(Timestamp.iso8601(nanos: completionStartNanos(of: span)))))
        if includeContent { out += content(summary.content, prefix: "langfuse.observation") }
        return out
    }

    /// `<prefix>.input` and `<prefix>.output`, as JSON strings, for what was captured.
    private static func content(_ content: CapturedContent?, prefix: String) -> [SpanAttribute] {
        [("input", content?.input), ("output", content?.output)].compactMap { key, value in
            value.map { SpanAttribute("\(prefix).\(key)", .string($0.encodedString())) }
        }
    }

    // MARK: Shared with the batch ingestion encoder

    /// The client's `metadata.trace_name` (LiteLLM's Langfuse convention), else the model group.
    static func traceName(_ summary: RequestSummary) -> String {
        summary.requestMetadata["trace_name"] ?? summary.modelGroup ?? summary.operation
    }

    /// Who and what the request was, as string metadata; only the facts that are known. For an
    /// attempt span the routing facts are its own, since a fallback may have used another group.
    static func metadata(_ summary: RequestSummary, observation span: SpanData? = nil) -> [(String, String)] {
        func own(_ key: String) -> String? {
            guard let span, span.kind == .client, case .string(let value) = span.attributes[key] else { return nil }
            return value
        }
        let caller = summary.caller
        let pairs: [(String, String?)] = [
            ("key_alias", caller.keyAlias), ("key_hash", caller.keyHash), ("team_id", caller.teamID),
            ("team_alias", caller.teamAlias), ("user_id", caller.userID), ("org_id", caller.orgID),
            ("model_group", own(AttributeName.modelGroup) ?? summary.modelGroup),
            ("deployment_id", own(AttributeName.deploymentID) ?? summary.deploymentID),
            ("provider", own(AttributeName.providerName) ?? summary.provider),
            ("request_id", summary.requestID),
        ]
        let facts = pairs.compactMap { key, value in value.map { (key, $0) } }
        // The client's own metadata follows, never overriding a fact the gateway established.
        let taken = Set(facts.map(\.0))
        return facts
            + summary.requestMetadata.sorted { $0.key < $1.key }.filter { !taken.contains($0.key) }.map { ($0.key, $0.value) }
    }

    /// Langfuse's usage map: `input`/`output` exclude the cached, cache-creation and reasoning
    /// tokens, which get their own keys, so its per-key prices do not count them twice.
    static func usageDetails(_ usage: Usage) -> JSONValue {
        var details: JSONObject = [
            "input": .int(max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheCreationTokens)),
            "output": .int(max(0, usage.outputTokens - usage.reasoningTokens)),
            "total": .int(usage.totalTokens),
        ]
        if usage.cacheReadTokens > 0 { details["input_cached_tokens"] = .int(usage.cacheReadTokens) }
        if usage.cacheCreationTokens > 0 { details["input_cache_creation"] = .int(usage.cacheCreationTokens) }
        if usage.reasoningTokens > 0 { details["output_reasoning_tokens"] = .int(usage.reasoningTokens) }
        return .object(details)
    }

    static func costDetails(_ cost: Double) -> JSONValue {
        .object(["total": .double(cost)])
    }

    /// The model Langfuse prices by: what answered, else what the attempt asked its upstream for
    /// (not `gen_ai.request.model`, the client's name for it, which may be a group or an alias).
    static func modelName(of span: SpanData, summary: RequestSummary) -> String {
        if case .string(let model) = span.attributes[AttributeName.responseModel] { return model }
        if case .string(let model) = span.attributes[AttributeName.upstreamModel] { return model }
        if case .string(let model) = span.attributes[AttributeName.requestModel] { return model }
        return summary.responseModel ?? summary.requestModel ?? summary.operation
    }

    /// When the first chunk arrived; an answer that was not streamed "starts" when it is complete.
    static func completionStartNanos(of span: SpanData) -> UInt64 {
        guard case .double(let seconds) = span.attributes[AttributeName.responseTimeToFirstChunk],
            seconds.isFinite, seconds >= 0
        else { return span.endNanos }
        // Clamped so a nonsense value cannot trap, nor put the first chunk after the end.
        return min(span.startNanos &+ UInt64(min(seconds, 1e6) * 1e9), span.endNanos)
    }
}

/// Langfuse project credentials and the endpoints they are used with.
public struct LangfuseCredentials: Sendable, CustomStringConvertible, CustomReflectable {
    /// Base URL, e.g. `https://cloud.langfuse.com`.
    public var host: String
    /// `pk-lf-…`
    public var publicKey: String
    /// `sk-lf-…`
    public var secretKey: String

    public init(host: String = "https://cloud.langfuse.com", publicKey: String, secretKey: String) {
        self.host = host
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// `Basic base64(pk:sk)`. Built once per exporter, off the request path.
    public var authorization: String {
        "Basic " + Data("\(publicKey):\(secretKey)".utf8).base64EncodedString()
    }

    public var otlpTracesURL: String { base + "/api/public/otel/v1/traces" }
    public var ingestionURL: String { base + "/api/public/ingestion" }

    /// The host without trailing slashes, so `https://h/` and `https://h` give the same URLs.
    private var base: String {
        var base = Substring(host)
        while base.hasSuffix("/") { base = base.dropLast() }
        return String(base)
    }

    /// Never the secret key, nor the host (which may carry credentials of its own), in logs.
    public var description: String { "LangfuseCredentials(publicKey: \(publicKey))" }
    public var customMirror: Mirror { Mirror(self, children: ["publicKey": publicKey]) }
}
