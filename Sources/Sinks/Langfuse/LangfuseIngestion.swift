import Telemetry

/// Langfuse's legacy batch API (`POST /api/public/ingestion`): a request becomes one
/// `trace-create` and one `generation-create` per upstream attempt; batches are split to stay
/// under the documented size limit; the 207 answer says which events were taken.
public enum LangfuseIngestion {
    /// Langfuse documents 3.5 MB per batch (the server stops at 4.5 MB).
    public static let maxBatchBytes = 3_500_000

    /// One encoded event and the request it belongs to.
    public struct Event: Sendable {
        /// The event id: derived from the span id and the event type, so a resent event dedups.
        public var id: String
        public var request: Int
        public var bytes: [UInt8]

        public init(id: String, request: Int, bytes: [UInt8]) {
            self.id = id
            self.request = request
            self.bytes = bytes
        }
    }

    /// The events of one request, in the order Langfuse should see them.
    public static func events(for request: FinishedSpan, includeContent: Bool) -> [JSONValue] {
        if request.kind == .evaluation { return evaluationEvents(for: request) }
        return [traceCreate(request, includeContent: includeContent)]
            + request.attempts.map { generationCreate($0, in: request, includeContent: includeContent) }
    }

    static func traceCreate(_ request: FinishedSpan, includeContent: Bool) -> JSONValue {
        let summary = request.summary
        let server = request.server
        var body: JSONObject = [
            "id": .string(server.traceID.hex),
            "timestamp": .string(Timestamp.iso8601(nanos: server.startNanos)),
            "name": .string(LangfuseAttributes.traceName(summary)),
        ]
        if let user = summary.endUser ?? summary.caller.userID { body["userId"] = .string(user) }
        if let session = summary.sessionID { body["sessionId"] = .string(session) }
        if !summary.tags.isEmpty { body["tags"] = .array(summary.tags.map(JSONValue.string)) }
        body["metadata"] = .object(metadataObject(LangfuseAttributes.metadata(summary)))
        if includeContent, let content = summary.content {
            if let input = content.input { body["input"] = input }
            if let output = content.output { body["output"] = output }
        }
        // A request may share its trace with others (an inbound traceparent), so the event id is
        // the SERVER span's: each request's trace-create is its own event, each an upsert of the trace.
        return envelope(id: server.spanID.hex + "-trace-create", type: "trace-create", at: server.endNanos, body: body)
    }

    static func generationCreate(_ span: SpanData, in request: FinishedSpan, includeContent: Bool) -> JSONValue {
        let summary = request.summary
        var body: JSONObject = [
            "id": .string(span.spanID.hex),
            "traceId": .string(span.traceID.hex),
            "name": .string(summary.requestMetadata["generation_name"] ?? span.name),
            "startTime": .string(Timestamp.iso8601(nanos: span.startNanos)),
            "endTime": .string(Timestamp.iso8601(nanos: span.endNanos)),
        ]
        let succeeded = request.answering?.spanID == span.spanID
        if succeeded || span.attributes[AttributeName.responseTimeToFirstChunk] != nil {
            body["completionStartTime"] = .string(
                Timestamp.iso8601(nanos: LangfuseAttributes.completionStartNanos(of: span)))
        }
        body["model"] = .string(LangfuseAttributes.modelName(of: span, summary: summary))
        let parameters = modelParameters(span)
        if !parameters.isEmpty { body["modelParameters"] = .object(parameters) }
        if succeeded {
            if let usage = summary.usage { body["usageDetails"] = LangfuseAttributes.usageDetails(usage) }
            if let cost = summary.costUSD { body["costDetails"] = LangfuseAttributes.costDetails(cost) }
            if includeContent, let content = summary.content {
                if let input = content.input { body["input"] = input }
                if let output = content.output { body["output"] = output }
            }
        }
        if case .error(let message) = span.status {
            body["level"] = "ERROR"
            body["statusMessage"] = .string(message)
        }
        var metadata = metadataObject(LangfuseAttributes.metadata(summary, observation: span))
        if case .stringArray(let reasons) = span.attributes[AttributeName.responseFinishReasons] {
            metadata["finish_reasons"] = .array(reasons.map(JSONValue.string))
        }
        if case .string(let errorType) = span.attributes[AttributeName.errorType] {
            metadata["error_type"] = .string(errorType)
        }
        body["metadata"] = .object(metadata)
        return envelope(
            id: span.spanID.hex + "-generation-create", type: "generation-create", at: span.endNanos, body: body)
    }

    /// `gen_ai.request.*` (but the model, which has its own field) under their short names.
    static func modelParameters(_ span: SpanData) -> JSONObject {
        let prefix = "gen_ai.request."
        var parameters = JSONObject()
        for attribute in span.attributes
        where attribute.key.hasPrefix(prefix) && attribute.key != AttributeName.requestModel {
            let name = String(attribute.key.dropFirst(prefix.count))
            parameters[name] = attribute.value.json
        }
        return parameters
    }

    static func metadataObject(_ pairs: [(String, String)]) -> JSONObject {
        JSONObject(pairs.map { (key: $0.0, value: JSONValue.string($0.1)) })
    }

    /// The event's `timestamp` is the span's end, not the send time, so a resent event is identical.
    static func envelope(id: String, type: String, at nanos: UInt64, body: JSONObject) -> JSONValue {
        .object([
            "id": .string(id), "type": .string(type), "timestamp": .string(Timestamp.iso8601(nanos: nanos)),
            "body": .object(body),
        ])
    }

    /// Every event of a batch of requests, encoded once.
    public static func encodedEvents(_ batch: [FinishedSpan], includeContent: Bool) -> [Event] {
        batch.enumerated().flatMap { index, request in
            events(for: request, includeContent: includeContent).map { event in
                Event(id: event["id"]?.stringValue ?? "", request: index, bytes: event.encoded())
            }
        }
    }

    // MARK: Batches

    private static let batchPrefix = Array(#"{"batch":["#.utf8)
    private static let batchSuffix = Array("]}".utf8)

    /// Groups events, in order, into `{"batch":[…]}` bodies of at most `maxBytes` each. An event
    /// too big for any body travels alone: the server's own limit is higher, and it will say.
    public static func split(_ events: [Event], maxBytes: Int = maxBatchBytes) -> [[Event]] {
        var groups: [[Event]] = []
        var current: [Event] = []
        var size = batchPrefix.count + batchSuffix.count
        for event in events {
            let added = event.bytes.count + (current.isEmpty ? 0 : 1)
            if !current.isEmpty && size + added > maxBytes {
                groups.append(current)
                current = []
                size = batchPrefix.count + batchSuffix.count
            }
            size += event.bytes.count + (current.isEmpty ? 0 : 1)
            current.append(event)
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    public static func body(_ events: [Event]) -> [UInt8] {
        var out = batchPrefix
        out.reserveCapacity(events.reduce(batchPrefix.count + batchSuffix.count) { $0 + $1.bytes.count + 1 })
        for (i, event) in events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: event.bytes)
        }
        out.append(contentsOf: batchSuffix)
        return out
    }

    // MARK: The 207 answer

    /// Langfuse's per-event verdict.
    public struct MultiStatus: Sendable, Equatable {
        public struct Failure: Sendable, Equatable {
            public var id: String
            public var status: Int
            public var message: String?

            /// Rate limits and server faults may pass on a later try; a refused event never will.
            public var isRetryable: Bool { status == 429 || status >= 500 }
        }

        public var successes: [String]
        public var errors: [Failure]

        /// `{"successes":[{"id","status"}],"errors":[{"id","status","message"}]}`; nil when the
        /// answer is not that shape (e.g. a plain 200 body).
        public static func parse(_ bytes: some Collection<UInt8>) -> MultiStatus? {
            guard let object = (try? JSONParser.parse(bytes))?.objectValue,
                object["successes"] != nil || object["errors"] != nil
            else { return nil }
            let successes = (object["successes"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            let errors = (object["errors"]?.arrayValue ?? []).compactMap { entry -> Failure? in
                guard let id = entry["id"]?.stringValue else { return nil }
                // An error without a status is the server's fault as far as the sender can tell.
                let status = entry["status"]?.intValue ?? 500
                return Failure(id: id, status: status, message: entry["message"]?.stringValue)
            }
            return MultiStatus(successes: successes, errors: errors)
        }
    }

    /// How one POST of a batch ended, as the event-level logic needs it.
    public enum PostResult: Sendable {
        /// A 2xx answer and its body.
        case answered(status: UInt, body: [UInt8])
        /// Refused as a whole, or given up on after the transport's own retries.
        case failed
    }

    /// Sends events and resends those Langfuse refused for a passing reason (429, 5xx), each round
    /// after `pause(round)` (false ends it), up to `maxRetries` rounds. Returns how many requests
    /// had every event taken, and the POSTs whose answer refused some event.
    public static func deliver(
        _ events: [Event], requests: Int, maxBytes: Int = maxBatchBytes, maxRetries: Int,
        post: ([UInt8]) async -> PostResult, pause: (Int) async -> Bool
    ) async -> (delivered: Int, partialFailures: Int) {
        var lost = Set<Int>()
        var pending = events
        var round = 0
        var partialFailures = 0
        while !pending.isEmpty {
            var retry: [Event] = []
            for group in split(pending, maxBytes: maxBytes) {
                switch await post(body(group)) {
                case .failed:
                    for event in group { lost.insert(event.request) }
                case .answered(_, let answer):
                    // 200/201 without per-event results: the server took the batch whole.
                    guard let verdict = MultiStatus.parse(answer), !verdict.errors.isEmpty else { continue }
                    partialFailures += 1
                    let failures = Dictionary(
                        verdict.errors.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                    for event in group {
                        guard let failure = failures[event.id] else { continue }
                        if failure.isRetryable { retry.append(event) } else { lost.insert(event.request) }
                    }
                }
            }
            // Events of a request already lost need no second try.
            pending = retry.filter { !lost.contains($0.request) }
            guard !pending.isEmpty else { break }
            round += 1
            guard round <= maxRetries, await pause(round) else {
                for event in pending { lost.insert(event.request) }
                break
            }
        }
        return (requests - lost.count, partialFailures)
    }
}
