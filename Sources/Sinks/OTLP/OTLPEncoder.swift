import Telemetry

/// Maps finished requests to an OTLP `ExportTraceServiceRequest` (protobuf).
public struct OTLPEncoder: Sendable {
    /// Attributes a destination wants on top of the span's own (Langfuse's `langfuse.*`).
    public typealias Decoration = @Sendable (SpanData, FinishedSpan) -> [SpanAttribute]

    var resource: [SpanAttribute]
    var scopeName: String
    var scopeVersion: String
    /// Adds `gen_ai.input.messages` / `gen_ai.output.messages` to the CLIENT spans of requests whose
    /// content was captured.
    var includeContent = true
    var decoration: Decoration?

    public init(resource: [SpanAttribute], scopeName: String, scopeVersion: String) {
        self.resource = resource
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
    }

    init(
        resource: [SpanAttribute], scopeName: String, scopeVersion: String, includeContent: Bool,
        decoration: Decoration?
    ) {
        self.init(resource: resource, scopeName: scopeName, scopeVersion: scopeVersion)
        self.includeContent = includeContent
        self.decoration = decoration
    }

    /// The `ExportTraceServiceRequest` bytes, field numbers as in opentelemetry-proto
    /// (https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto).
    public func encode(_ batch: [FinishedSpan]) -> [UInt8] {
        var out = ProtobufWriter(capacity: 256 + batch.count * 1024)
        out.message(1) { resourceSpans in  // ExportTraceServiceRequest.resource_spans
            resourceSpans.message(1) { resource in  // ResourceSpans.resource
                for attribute in self.resource { Self.write(attribute, field: 1, into: &resource) }
            }
            resourceSpans.message(2) { scopeSpans in  // ResourceSpans.scope_spans
                scopeSpans.message(1) { scope in  // ScopeSpans.scope
                    if !self.scopeName.isEmpty { scope.stringField(1, self.scopeName) }
                    if !self.scopeVersion.isEmpty { scope.stringField(2, self.scopeVersion) }
                }
                for request in batch {
                    for data in request.spans {
                        var extra = self.includeContent ? Self.contentAttributes(data, request) : []
                        extra += self.decoration?(data, request) ?? []
                        scopeSpans.message(2) { Self.write(data, extra: extra, into: &$0) }  // ScopeSpans.spans
                    }
                }
            }
        }
        return out.bytes
    }

    /// One `Span` message, fields in number order as the reference encoders write them.
    static func write(_ data: SpanData, extra: [SpanAttribute], into span: inout ProtobufWriter) {
        span.bytesField(1, data.traceID.bytes)
        span.bytesField(2, data.spanID.bytes)
        if let state = data.traceState, !state.isEmpty { span.stringField(3, state) }
        if let parent = data.parentSpanID { span.bytesField(4, parent.bytes) }
        if !data.name.isEmpty { span.stringField(5, data.name) }
        span.varintField(6, UInt64(data.kind.rawValue))
        if data.startNanos != 0 { span.fixed64Field(7, data.startNanos) }
        if data.endNanos != 0 { span.fixed64Field(8, data.endNanos) }
        for attribute in data.attributes.list { write(attribute, field: 9, into: &span) }
        for attribute in extra { write(attribute, field: 9, into: &span) }
        for event in data.events {
            span.message(11) { e in
                if event.timeNanos != 0 { e.fixed64Field(1, event.timeNanos) }
                if !event.name.isEmpty { e.stringField(2, event.name) }
                for attribute in event.attributes.list { write(attribute, field: 3, into: &e) }
            }
        }
        switch data.status {
        case .unset: break
        case .ok: span.message(15) { $0.varintField(3, 1) }
        case .error(let message):
            span.message(15) { status in
                if !message.isEmpty { status.stringField(2, message) }
                status.varintField(3, 2)
            }
        }
        // Bits 0-7: W3C trace flags; 0x100: the is-remote bit is known; 0x200: the parent is remote.
        span.fixed32Field(16, UInt32(data.traceFlags) | 0x100 | (data.parentIsRemote ? 0x200 : 0))
    }

    /// A `KeyValue` with its `AnyValue` (oneof members are written even when they hold a default).
    static func write(_ attribute: SpanAttribute, field: Int, into out: inout ProtobufWriter) {
        out.message(field) { kv in
            kv.stringField(1, attribute.key)
            kv.message(2) { any in
                switch attribute.value {
                case .string(let text): any.stringField(1, text)
                case .bool(let flag): any.varintField(2, flag ? 1 : 0)
                case .int(let number): any.varintField(3, UInt64(bitPattern: number))
                case .double(let number): any.fixed64Field(4, number.bitPattern)
                case .stringArray(let texts):
                    any.message(5) { array in
                        for text in texts { array.message(1) { $0.stringField(1, text) } }
                    }
                }
            }
        }
    }

    /// The GenAI conventions' opt-in content attributes, as JSON strings: the prompt on every
    /// attempt, the answer on the attempt that gave it.
    static func contentAttributes(_ data: SpanData, _ request: FinishedSpan) -> [SpanAttribute] {
        guard data.kind == .client, let content = request.summary.content else { return [] }
        var attributes: [SpanAttribute] = []
        if let input = content.input {
            attributes.append(SpanAttribute(AttributeName.inputMessages, .string(input.encodedString())))
        }
        if data.status == .ok, let output = content.output {
            attributes.append(SpanAttribute(AttributeName.outputMessages, .string(output.encodedString())))
        }
        return attributes
    }
}
