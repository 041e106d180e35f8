import Telemetry

/// Builds the finished requests that sink and pipeline tests feed to what they test: a SERVER
/// span, the CLIENT span of each upstream attempt under it, and the summary, with fixed ids and
/// times unless a test names its own. Each step returns a new builder, so fixtures read as one
/// expression and a variant of a fixture is its builder plus one step.
public struct FinishedSpanBuilder: Sendable {
    // Non-zero literals, so the failable initialisers cannot fail.
    public static let traceID = TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736)!
    public static let serverSpanID = SpanID(0x00f0_67aa_0ba9_02b7)!
    /// A fixed, realistic start (Unix nanoseconds), so rendered timestamps can be compared.
    public static let start: UInt64 = 1_795_578_148_771_715_000

    public var server: SpanData
    public var attempts: [SpanData]
    public var summary: RequestSummary

    /// A request with no attempts yet whose SERVER span runs from `start` to `end` (default: one
    /// second later). `sampled` sets the W3C sampled flag the pipeline's trace sinks follow.
    public init(
        requestID: String = "req_test", operation: String = "chat", name: String = "POST /v1/chat/completions",
        traceID: TraceID = Self.traceID, spanID: SpanID = Self.serverSpanID, start: UInt64 = Self.start,
        end: UInt64? = nil, attributes: Attributes = Attributes(), status: SpanStatus = .unset, sampled: Bool = true
    ) {
        server = SpanData(
            traceID: traceID, spanID: spanID, parentSpanID: nil, parentIsRemote: false, traceFlags: sampled ? 0x01 : 0x00,
            traceState: nil, name: name, kind: .server, startNanos: start, endNanos: end ?? start + 1_000_000_000,
            attributes: attributes, events: [], status: status)
        attempts = []
        summary = RequestSummary(requestID: requestID, operation: operation)
    }

    /// Spans recorded elsewhere (by a live `Span`, or a golden vector's), with an empty summary.
    public init(server: SpanData, attempts: [SpanData] = [], requestID: String = "req_test", operation: String = "chat") {
        self.server = server
        self.attempts = attempts
        summary = RequestSummary(requestID: requestID, operation: operation)
    }

    /// Starts from an existing request, to build a variant of it.
    public init(_ request: FinishedSpan) {
        server = request.server
        attempts = request.attempts
        summary = request.summary
    }

    /// Adds an upstream attempt: a CLIENT span under the SERVER span, in the same trace.
    public func attempt(
        name: String = "chat gpt-4o", spanID: SpanID = .random(), start: UInt64? = nil, end: UInt64? = nil,
        attributes: Attributes = Attributes(), status: SpanStatus = .ok
    ) -> Self {
        var copy = self
        copy.attempts.append(
            SpanData(
                traceID: server.traceID, spanID: spanID, parentSpanID: server.spanID, parentIsRemote: false,
                traceFlags: server.traceFlags, traceState: server.traceState, name: name, kind: .client,
                startNanos: start ?? server.startNanos, endNanos: end ?? server.endNanos, attributes: attributes,
                events: [], status: status))
        return copy
    }

    /// Changes the summary (the normalised facts every sink reads).
    public func summary(_ change: (inout RequestSummary) -> Void) -> Self {
        var copy = self
        change(&copy.summary)
        return copy
    }

    /// Changes the SERVER span.
    public func server(_ change: (inout SpanData) -> Void) -> Self {
        var copy = self
        change(&copy.server)
        return copy
    }

    /// Changes every attempt's CLIENT span.
    public func eachAttempt(_ change: (inout SpanData) -> Void) -> Self {
        var copy = self
        for index in copy.attempts.indices { change(&copy.attempts[index]) }
        return copy
    }

    /// Replaces the attempts.
    public func attempts(_ attempts: [SpanData]) -> Self {
        var copy = self
        copy.attempts = attempts
        return copy
    }

    public func build() -> FinishedSpan {
        FinishedSpan(server: server, attempts: attempts, summary: summary)
    }
}

extension FinishedSpan {
    /// This request with its summary changed: a variant of a fixture in one line.
    public func with(_ change: (inout RequestSummary) -> Void) -> FinishedSpan {
        FinishedSpanBuilder(self).summary(change).build()
    }
}
