import Telemetry

/// The `x-spanway-*` headers of an answer (refusals included), and the rate-limit headers of the
/// caller's tightest limit.
enum ReplyHeaders {
    static func of(_ exchange: Exchange, cost: Double?) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("x-spanway-trace-id", exchange.traceID.hex), ("x-spanway-request-id", exchange.requestID),
        ]
        if let cost { headers.append(("x-spanway-response-cost", formatCost(cost))) }
        if let group = exchange.modelGroup { headers.append(("x-spanway-model-group", group)) }
        if let deployment = exchange.deploymentID { headers.append(("x-spanway-deployment", deployment)) }
        if exchange.attempts > 0 { headers.append(("x-spanway-attempts", String(exchange.attempts))) }
        return headers + (exchange.ticket?.headers ?? [])
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
