import Telemetry

/// The `x-spanway-*` headers of an answer (refusals included), the same facts under LiteLLM's
/// `x-litellm-*` names (so clients and tools written for LiteLLM read them unchanged), and the
/// rate-limit headers of the caller's tightest limit.
enum ReplyHeaders {
    static func of(_ exchange: Exchange, cost: Double?) -> [(String, String)] {
        let requestID = exchange.requestID
        var headers: [(String, String)] = [
            ("x-spanway-trace-id", exchange.traceID.hex), ("x-spanway-request-id", requestID),
            ("x-litellm-call-id", requestID),
        ]
        // Absent on streams, whose cost is known only at their end (a trailer, and `usage.cost`).
        if let cost {
            let text = formatCost(cost)
            headers += [("x-spanway-response-cost", text), ("x-litellm-response-cost", text)]
        }
        if let requested = exchange.requestedModel { headers.append(("x-spanway-requested-model", requested)) }
        // After a fallback, the group that answered.
        if let group = exchange.modelGroup {
            headers += [("x-spanway-model-group", group), ("x-litellm-model-group", group)]
        }
        if let deployment = exchange.deploymentID {
            headers += [("x-spanway-deployment", deployment), ("x-litellm-model-id", deployment)]
        }
        let attempts = exchange.attempts
        if attempts > 0 {
            let fallbacks = exchange.fallbackDepth
            headers += [
                ("x-spanway-attempts", String(attempts)),
                ("x-litellm-attempted-retries", String(max(0, attempts - 1 - fallbacks))),
                ("x-litellm-attempted-fallbacks", String(fallbacks)),
            ]
        }
        let overhead = exchange.overheadSoFar
        headers.append(("x-litellm-overhead-duration-ms", formatMilliseconds(overhead)))
        return headers + (exchange.ticket?.headers ?? [])
    }

    /// Milliseconds with up to three decimals, as LiteLLM writes them.
    static func formatMilliseconds(_ duration: Duration) -> String {
        let micros = max(0, duration.nanoseconds / 1000)
        let whole = micros / 1000
        let fraction = micros % 1000
        guard fraction > 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// USD with enough significant digits for sub-cent request costs, never in exponent form.
    /// Twelve decimals in integer arithmetic: this runs for every response, and Foundation's
    /// `String(format:)` showed up in the hot-path profile.
    static func formatCost(_ cost: Double) -> String {
        guard cost > 0, cost.isFinite else { return "0" }
        guard cost < 1_000_000 else { return String(UInt64(min(cost, 1e18).rounded())) }
        let scaled = UInt64((cost * 1e12).rounded())
        let whole = scaled / 1_000_000_000_000
        var fraction = String(scaled % 1_000_000_000_000)
        fraction = String(repeating: "0", count: 12 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }
}
