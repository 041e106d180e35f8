import TelemetryTesting
import Testing

@testable import Sinks
@testable import Telemetry

/// An evaluation item's trace in Langfuse's ingestion API (`POST /api/public/ingestion`): a
/// `trace-create`, a `span-create` per model or judge call, and a `score-create` (`ScoreBody`:
/// `id`, `traceId`, `observationId`, `name`, `value`, `comment`, `dataType`) per score event.
@Suite struct LangfuseEvaluationTests {
    static let traceHex = "0af7651916cd43dd8448eb211c80319c"
    static let rootHex = "b7ad6b7169203331"
    static let rightHex = "1000000000000001"
    static let wrongHex = "2000000000000002"
    static let judgeHex = "3000000000000003"
    /// 2026-11-25T13:14:48.123456789Z
    static let start: UInt64 = 1_795_612_488_123_456_789

    static func score(_ name: String, _ value: Double, explanation: String? = nil, at nanos: UInt64) -> SpanEvent {
        var attributes = Attributes()
        attributes[AttributeName.evaluationName] = .string(name)
        attributes[AttributeName.evaluationScoreValue] = .double(value)
        if let explanation { attributes[AttributeName.evaluationExplanation] = .string(explanation) }
        return SpanEvent(name: AttributeName.evaluationResultEvent, timeNanos: nanos, attributes: attributes)
    }

    /// One item: a right answer (two scores), a wrong one whose call ended in error (one score), and a judge call.
    static func evaluation() throws -> FinishedSpan {
        let traceID = try #require(TraceID(hex: Substring(traceHex)))
        let rootID = try #require(SpanID(hex: Substring(rootHex)))
        var rootAttributes = Attributes()
        rootAttributes[AttributeName.evalRunID] = .string("eval-7")
        rootAttributes[AttributeName.evalItemID] = .string("q1")
        let root = SpanData(
            traceID: traceID, spanID: rootID, parentSpanID: nil, parentIsRemote: false, traceFlags: 1, traceState: nil,
            name: "evaluate q1", kind: .internal, startNanos: start, endNanos: start + 3_000_000_000,
            attributes: rootAttributes, events: [], status: .unset)

        func call(_ hex: String, name: String, from: UInt64, to: UInt64, events: [SpanEvent], status: SpanStatus) throws
            -> SpanData
        {
            var attributes = Attributes()
            attributes[AttributeName.evalRunID] = .string("eval-7")
            attributes[AttributeName.requestModel] = .string(String(name.split(separator: " ").last ?? ""))
            return SpanData(
                traceID: traceID, spanID: try #require(SpanID(hex: Substring(hex))), parentSpanID: rootID,
                parentIsRemote: false, traceFlags: 1, traceState: nil, name: name, kind: .client, startNanos: start + from,
                endNanos: start + to, attributes: attributes, events: events, status: status)
        }

        var noise = Attributes()
        noise[AttributeName.evaluationName] = .string("not-a-score")
        let right = try call(
            rightHex, name: "chat small", from: 1_000_000_000, to: 1_500_000_000,
            events: [
                score("exact", 1, at: start + 1_500_000_000),
                SpanEvent(name: "exception", timeNanos: start + 1_400_000_000, attributes: noise),
                score("judge", 0.75, explanation: "close enough", at: start + 2_500_000_000),
            ], status: .unset)
        var incomplete = Attributes()
        incomplete[AttributeName.evaluationName] = .string("broken")
        let wrong = try call(
            wrongHex, name: "chat large", from: 1_000_000_000, to: 2_000_000_000,
            events: [
                score("exact", 0, at: start + 2_000_000_000),
                // A result without a value is not a score.
                SpanEvent(name: AttributeName.evaluationResultEvent, timeNanos: start + 2_000_000_000, attributes: incomplete),
            ], status: .error(message: "upstream 503"))
        let judge = try call(
            judgeHex, name: "judge grader", from: 2_000_000_000, to: 2_500_000_000, events: [], status: .unset)
        var summary = RequestSummary(requestID: "eval-7/q1", operation: "evaluation")
        summary.statusCode = 200
        return FinishedSpan(server: root, attempts: [right, wrong, judge], summary: summary, kind: .evaluation)
    }

    @Test func aTraceASpanPerCallAndAScorePerResult() throws {
        let events = LangfuseIngestion.events(for: try Self.evaluation(), includeContent: true)
        #expect(
            events.map { $0["type"]?.stringValue } == [
                "trace-create", "span-create", "score-create", "score-create", "span-create", "score-create", "span-create",
            ])
        let ids = events.compactMap { $0["id"]?.stringValue }
        #expect(ids.count == events.count)
        #expect(Set(ids).count == ids.count)
        // Built again (a retry), the events are the same, so Langfuse dedups them.
        #expect(LangfuseIngestion.events(for: try Self.evaluation(), includeContent: true) == events)
    }

    @Test func theTraceIsTaggedAndNamedAfterTheItem() throws {
        let events = LangfuseIngestion.events(for: try Self.evaluation(), includeContent: false)
        let envelope = try #require(events.first)
        #expect(envelope["type"] == "trace-create")
        #expect(envelope["timestamp"] == .string("2026-11-25T13:14:51.123Z"))
        let trace = try #require(envelope["body"])
        #expect(trace["id"] == .string(Self.traceHex))
        #expect(trace["name"] == "evaluate q1")
        #expect(trace["timestamp"] == .string("2026-11-25T13:14:48.123Z"))
        let tags = try #require(trace["tags"]?.arrayValue)
        #expect(tags.contains("spanway-evaluation"))
        #expect(trace["metadata"]?["spanway.eval.run_id"] == "eval-7")
        #expect(trace["metadata"]?["spanway.eval.item_id"] == "q1")
    }

    @Test func eachCallIsASpanInTheTrace() throws {
        let events = LangfuseIngestion.events(for: try Self.evaluation(), includeContent: false)
        let spans = events.filter { $0["type"] == "span-create" }.compactMap { $0["body"] }
        #expect(spans.map { $0["id"] } == [.string(Self.rightHex), .string(Self.wrongHex), .string(Self.judgeHex)])
        #expect(spans.allSatisfy { $0["traceId"] == .string(Self.traceHex) })
        #expect(spans.map { $0["name"] } == ["chat small", "chat large", "judge grader"])
        #expect(spans[0]["startTime"] == .string("2026-11-25T13:14:49.123Z"))
        #expect(spans[0]["endTime"] == .string("2026-11-25T13:14:49.623Z"))
        #expect(spans[0]["level"] == nil)
        #expect(spans[1]["level"] == "ERROR")
        #expect(spans[1]["statusMessage"] == "upstream 503")
        #expect(spans[2]["metadata"]?[AttributeName.requestModel] == "grader")
    }

    @Test func eachResultIsANumericScoreOnItsCall() throws {
        let events = LangfuseIngestion.events(for: try Self.evaluation(), includeContent: false)
        let scores = events.filter { $0["type"] == "score-create" }
        #expect(scores.count == 3)
        let bodies = scores.compactMap { $0["body"]?.objectValue }
        #expect(bodies.count == 3)

        let exactRight = try #require(bodies.first { $0["observationId"] == .string(Self.rightHex) && $0["name"] == "exact" })
        #expect(exactRight["traceId"] == .string(Self.traceHex))
        #expect(exactRight["value"]?.doubleValue == 1)
        #expect(exactRight["dataType"] == "NUMERIC")
        #expect(exactRight["comment"] == nil)

        let judge = try #require(bodies.first { $0["name"] == "judge" })
        #expect(judge["observationId"] == .string(Self.rightHex))
        #expect(judge["traceId"] == .string(Self.traceHex))
        #expect(judge["value"]?.doubleValue == 0.75)
        #expect(judge["comment"] == "close enough")
        #expect(judge["dataType"] == "NUMERIC")

        let exactWrong = try #require(bodies.first { $0["observationId"] == .string(Self.wrongHex) })
        #expect(exactWrong["name"] == "exact")
        #expect(exactWrong["value"]?.doubleValue == 0)

        // Only the fields Langfuse's ScoreBody has.
        let allowed: Set<String> = ["id", "traceId", "observationId", "name", "value", "comment", "dataType"]
        #expect(bodies.allSatisfy { Set($0.keys).isSubset(of: allowed) })
        // Score ids are distinct, so two scores of one call are two scores.
        #expect(Set(bodies.compactMap { $0["id"]?.stringValue }).count == 3)
        // The envelope is timed at the score's event.
        #expect(scores.first { $0["body"]?["name"] == "judge" }?["timestamp"] == .string("2026-11-25T13:14:50.623Z"))
    }

    @Test func anEvaluationHasNoGenerationsAndTheBatchParses() throws {
        let request = try Self.evaluation()
        let events = LangfuseIngestion.events(for: request, includeContent: true)
        #expect(!events.contains { $0["type"] == "generation-create" })
        let encoded = LangfuseIngestion.encodedEvents([request], includeContent: true)
        let body = LangfuseIngestion.body(encoded)
        let batch = try #require(try JSONParser.parse(body)["batch"]?.arrayValue)
        #expect(batch.count == events.count)
    }
}
