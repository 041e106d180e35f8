import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time for span timestamps; durations come from the monotonic clock.
public enum WallClock {
    public static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds since the epoch, for the stages that keep time windows (limits, cooldowns, usage).
    public static func nowSeconds() -> Double {
        Double(nowNanos()) / 1e9
    }
}

/// A span being recorded. Stages annotate it; `end()` freezes it into `SpanData` once.
public final class Span: Sendable {
    public let traceID: TraceID
    public let spanID: SpanID
    public let parentSpanID: SpanID?
    public let parentIsRemote: Bool
    public let traceFlags: UInt8
    public let traceState: String?
    public let kind: SpanKind
    public let startNanos: UInt64
    public let startInstant: ContinuousClock.Instant

    private struct State {
        var name: String
        var attributes = Attributes()
        var events: [SpanEvent] = []
        var status = SpanStatus.unset
        var finished: SpanData?
    }

    private let state: Mutex<State>

    /// A root or remote-parented SERVER span for an inbound request.
    public convenience init(
        name: String, kind: SpanKind, parent: TraceParent?, traceState: String? = nil,
        sampler: Sampler = .parentBasedAlwaysOn
    ) {
        let traceID = parent?.traceID ?? TraceID.random()
        let sampled: UInt8 = sampler.shouldSample(traceID: traceID, parent: parent) ? 0x01 : 0x00
        self.init(
            name: name, kind: kind, traceID: traceID,
            parentSpanID: parent?.spanID,
            parentIsRemote: parent != nil,
            // The caller's random-trace-id flag (0x02) passes through; bit 0 is the sampler's decision.
            traceFlags: (parent.map { $0.flags & 0x02 } ?? 0) | sampled,
            traceState: parent == nil ? nil : traceState)
    }

    init(
        name: String, kind: SpanKind, traceID: TraceID, parentSpanID: SpanID?, parentIsRemote: Bool,
        traceFlags: UInt8, traceState: String?
    ) {
        self.traceID = traceID
        self.spanID = SpanID.random()
        self.parentSpanID = parentSpanID
        self.parentIsRemote = parentIsRemote
        self.traceFlags = traceFlags
        self.traceState = traceState
        self.kind = kind
        self.startNanos = WallClock.nowNanos()
        self.startInstant = ContinuousClock.now
        self.state = Mutex(State(name: name))
    }

    public func child(name: String, kind: SpanKind) -> Span {
        Span(
            name: name, kind: kind, traceID: traceID, parentSpanID: spanID, parentIsRemote: false,
            traceFlags: traceFlags, traceState: traceState)
    }

    /// The context to propagate downstream: this span becomes the callee's parent.
    public var traceParent: TraceParent {
        TraceParent(traceID: traceID, spanID: spanID, flags: traceFlags)
    }

    public var isSampled: Bool { traceFlags & 0x01 != 0 }

    public var name: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public subscript(attribute key: String) -> AttributeValue? {
        get { state.withLock { $0.attributes[key] } }
        set { state.withLock { $0.attributes[key] = newValue } }
    }

    public func setAttributes(_ pairs: [(String, AttributeValue?)]) {
        state.withLock { state in
            for (key, value) in pairs { state.attributes[key] = value }
        }
    }

    public func addEvent(_ name: String, attributes: Attributes = Attributes()) {
        let event = SpanEvent(name: name, timeNanos: WallClock.nowNanos(), attributes: attributes)
        state.withLock { $0.events.append(event) }
    }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { $0.status = status }
    }

    /// Ends the span (first call wins) and returns its frozen data.
    @discardableResult
    public func end(at instant: ContinuousClock.Instant = .now) -> SpanData {
        let elapsed = instant - startInstant
        let endNanos = startNanos + UInt64(max(0, elapsed.nanoseconds))
        return state.withLock { state in
            if let finished = state.finished { return finished }
            let data = SpanData(
                traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, parentIsRemote: parentIsRemote,
                traceFlags: traceFlags, traceState: traceState, name: state.name, kind: kind,
                startNanos: startNanos, endNanos: endNanos, attributes: state.attributes, events: state.events,
                status: state.status)
            state.finished = data
            return data
        }
    }
}

extension Duration {
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
