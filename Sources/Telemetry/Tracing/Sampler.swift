/// The head sampling decision for traces (`OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`).
/// It only decides what trace sinks receive: the ledger and Prometheus see every request.
public struct Sampler: Sendable, Equatable {
    public enum Root: Sendable, Equatable {
        case alwaysOn
        case alwaysOff
        /// Keeps this fraction of traces, decided from the trace id so every hop agrees.
        case traceIDRatio(Double)
    }

    public var root: Root
    /// Follow an inbound `traceparent`'s sampled flag when there is one.
    public var parentBased: Bool

    public init(root: Root, parentBased: Bool) {
        self.root = root
        self.parentBased = parentBased
    }

    /// The SDK default.
    public static let parentBasedAlwaysOn = Sampler(root: .alwaysOn, parentBased: true)

    /// Reads the two variables; unknown names fall back to the default, as the SDKs do, and are
    /// reported through `problem`.
    public static func fromEnvironment(_ env: [String: String]) -> (sampler: Sampler, problem: String?) {
        let name = (env["OTEL_TRACES_SAMPLER"] ?? "parentbased_always_on").lowercased()
        let argument = env["OTEL_TRACES_SAMPLER_ARG"]
        let ratio = argument.flatMap(Double.init).map { min(max($0, 0), 1) } ?? 1
        var problem: String?
        if name.hasSuffix("traceidratio"), let argument, Double(argument) == nil {
            problem = "OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1; sampling everything."
        }
        switch name {
        case "always_on": return (Sampler(root: .alwaysOn, parentBased: false), problem)
        case "always_off": return (Sampler(root: .alwaysOff, parentBased: false), problem)
        case "traceidratio": return (Sampler(root: .traceIDRatio(ratio), parentBased: false), problem)
        case "parentbased_always_on": return (Sampler(root: .alwaysOn, parentBased: true), problem)
        case "parentbased_always_off": return (Sampler(root: .alwaysOff, parentBased: true), problem)
        case "parentbased_traceidratio": return (Sampler(root: .traceIDRatio(ratio), parentBased: true), problem)
        default:
            return (.parentBasedAlwaysOn, "OTEL_TRACES_SAMPLER '\(name)' is not supported; using parentbased_always_on.")
        }
    }

    public func shouldSample(traceID: TraceID, parent: TraceParent?) -> Bool {
        if parentBased, let parent { return parent.flags & 0x01 != 0 }
        switch root {
        case .alwaysOn: return true
        case .alwaysOff: return false
        case .traceIDRatio(let ratio):
            // The SDKs' rule: the low 63 bits of the trace id below ratio × 2^63.
            return Double(traceID.low & 0x7FFF_FFFF_FFFF_FFFF) < ratio * 9_223_372_036_854_775_808.0
        }
    }
}
