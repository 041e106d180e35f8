import Telemetry

extension LangfuseIngestion {
    /// An evaluation item's trace: the trace itself (named after the run and item), a span per
    /// model or judge call, and a `score-create` per `gen_ai.evaluation.result` event on those
    /// spans, attached to the call it scores. The gateway's own generations for the same calls
    /// arrive as requests and land in the same trace.
    static func evaluationEvents(for evaluation: FinishedSpan) -> [JSONValue] {
        let root = evaluation.server
        var trace: JSONObject = [
            "id": .string(root.traceID.hex),
            "timestamp": .string(Timestamp.iso8601(nanos: root.startNanos)),
            "name": .string(root.name),
            "tags": .array(["spanway-evaluation"]),
        ]
        trace["metadata"] = .object(stringAttributes(root))
        var events = [envelope(id: root.spanID.hex + "-trace-create", type: "trace-create", at: root.endNanos, body: trace)]
        for call in evaluation.attempts {
            var span: JSONObject = [
                "id": .string(call.spanID.hex),
                "traceId": .string(call.traceID.hex),
                "name": .string(call.name),
                "startTime": .string(Timestamp.iso8601(nanos: call.startNanos)),
                "endTime": .string(Timestamp.iso8601(nanos: call.endNanos)),
                "metadata": .object(stringAttributes(call)),
            ]
            if case .error(let message) = call.status {
                span["level"] = "ERROR"
                span["statusMessage"] = .string(message)
            }
            events.append(envelope(id: call.spanID.hex + "-span-create", type: "span-create", at: call.endNanos, body: span))
            for event in call.events where event.name == AttributeName.evaluationResultEvent {
                guard case .string(let name)? = event.attributes[AttributeName.evaluationName],
                    case .double(let value)? = event.attributes[AttributeName.evaluationScoreValue]
                else { continue }
                var score: JSONObject = [
                    "id": .string("\(call.spanID.hex)-\(name)-score"),
                    "traceId": .string(call.traceID.hex),
                    "observationId": .string(call.spanID.hex),
                    "name": .string(name),
                    "value": .double(value),
                    "dataType": "NUMERIC",
                ]
                if case .string(let comment)? = event.attributes[AttributeName.evaluationExplanation] {
                    score["comment"] = .string(comment)
                }
                events.append(
                    envelope(
                        id: "\(call.spanID.hex)-\(name)-score-create", type: "score-create", at: event.timeNanos, body: score))
            }
        }
        return events
    }

    /// A span's attributes as Langfuse metadata (text values; numbers as written).
    private static func stringAttributes(_ span: SpanData) -> JSONObject {
        JSONObject(span.attributes.map { (key: $0.key, value: $0.value.json) })
    }
}
