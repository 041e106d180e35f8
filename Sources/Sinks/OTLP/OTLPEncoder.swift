import Foundation
import SwiftProtobuf
import Telemetry

/// Maps finished requests to an OTLP `ExportTraceServiceRequest` (protobuf).
struct OTLPEncoder: Sendable {
    /// Attributes a destination wants on top of the span's own (Langfuse's `langfuse.*`).
    typealias Decoration = @Sendable (SpanData, FinishedSpan) -> [SpanAttribute]

    var resource: [SpanAttribute]
    var scopeName: String
    var scopeVersion: String
    /// Adds `gen_ai.input.messages` / `gen_ai.output.messages` to the CLIENT spans of requests whose
    /// content was captured.
    var includeContent = true
    var decoration: Decoration?

    func request(for batch: [FinishedSpan]) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = scopeName
        scopeSpans.scope.version = scopeVersion
        scopeSpans.spans = batch.flatMap { request in
            request.spans.map { data in
                var span = Self.span(data)
                var extra = includeContent ? Self.contentAttributes(data, request) : []
                extra += decoration?(data, request) ?? []
                span.attributes += extra.map(Self.keyValue)
                return span
            }
        }
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = resource.map(Self.keyValue)
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    func encode(_ batch: [FinishedSpan]) throws -> [UInt8] {
        try request(for: batch).serializedBytes()
    }

    /// The GenAI conventions' opt-in content attributes, as JSON strings: the prompt on every
    /// attempt, the answer on the attempt that gave it.
    static func contentAttributes(_ data: SpanData, _ request: FinishedSpan) -> [SpanAttribute] {
        guard data.kind == .client, let content = request.summary.content else { return [] }
        var attributes: [SpanAttribute] = []
        if let input = content.input { attributes.append(SpanAttribute(AttributeName.inputMessages, .string(input.encodedString()))) }
        if data.status == .ok, let output = content.output {
            attributes.append(SpanAttribute(AttributeName.outputMessages, .string(output.encodedString())))
        }
        return attributes
    }

    static func span(_ data: SpanData) -> Opentelemetry_Proto_Trace_V1_Span {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(data.traceID.bytes)
        span.spanID = Data(data.spanID.bytes)
        if let parent = data.parentSpanID { span.parentSpanID = Data(parent.bytes) }
        if let state = data.traceState { span.traceState = state }
        // Bits 0-7: W3C trace flags; 0x100: the is-remote bit is known; 0x200: the parent is remote.
        span.flags = UInt32(data.traceFlags) | 0x100 | (data.parentIsRemote ? 0x200 : 0)
        span.name = data.name
        span.kind = kind(data.kind)
        span.startTimeUnixNano = data.startNanos
        span.endTimeUnixNano = data.endNanos
        span.attributes = data.attributes.list.map(keyValue)
        span.events = data.events.map { event in
            var e = Opentelemetry_Proto_Trace_V1_Span.Event()
            e.timeUnixNano = event.timeNanos
            e.name = event.name
            e.attributes = event.attributes.list.map(keyValue)
            return e
        }
        switch data.status {
        case .unset: break
        case .ok: span.status.code = .ok
        case .error(let message):
            span.status.code = .error
            span.status.message = message
        }
        return span
    }

    static func kind(_ kind: SpanKind) -> Opentelemetry_Proto_Trace_V1_Span.SpanKind {
        switch kind {
        case .internal: .internal
        case .server: .server
        case .client: .client
        }
    }

    static func keyValue(_ attribute: SpanAttribute) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var kv = Opentelemetry_Proto_Common_V1_KeyValue()
        kv.key = attribute.key
        kv.value = anyValue(attribute.value)
        return kv
    }

    static func anyValue(_ value: AttributeValue) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var any = Opentelemetry_Proto_Common_V1_AnyValue()
        switch value {
        case .string(let s): any.stringValue = s
        case .bool(let b): any.boolValue = b
        case .int(let i): any.intValue = i
        case .double(let d): any.doubleValue = d
        case .stringArray(let values):
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = values.map { s in
                var element = Opentelemetry_Proto_Common_V1_AnyValue()
                element.stringValue = s
                return element
            }
            any.arrayValue = array
        }
        return any
    }
}
