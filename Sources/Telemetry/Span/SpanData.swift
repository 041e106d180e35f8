public enum SpanKind: Int, Sendable {
    case `internal` = 1
    case server = 2
    case client = 3
}

public enum SpanStatus: Sendable, Equatable {
    case unset
    case ok
    case error(message: String)
}

public struct SpanEvent: Sendable, Equatable {
    public var name: String
    public var timeNanos: UInt64
    public var attributes: Attributes

    public init(name: String, timeNanos: UInt64, attributes: Attributes = Attributes()) {
        self.name = name
        self.timeNanos = timeNanos
        self.attributes = attributes
    }
}

/// One finished OpenTelemetry span, immutable, as exporters encode it.
public struct SpanData: Sendable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var parentSpanID: SpanID?
    /// True when the parent came from an inbound `traceparent` (OTLP flags bit 0x200).
    public var parentIsRemote: Bool
    public var traceFlags: UInt8
    public var traceState: String?
    public var name: String
    public var kind: SpanKind
    public var startNanos: UInt64
    public var endNanos: UInt64
    public var attributes: Attributes
    public var events: [SpanEvent]
    public var status: SpanStatus

    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, parentIsRemote: Bool, traceFlags: UInt8,
        traceState: String?, name: String, kind: SpanKind, startNanos: UInt64, endNanos: UInt64,
        attributes: Attributes, events: [SpanEvent], status: SpanStatus
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.parentIsRemote = parentIsRemote
        self.traceFlags = traceFlags
        self.traceState = traceState
        self.name = name
        self.kind = kind
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.attributes = attributes
        self.events = events
        self.status = status
    }
}
