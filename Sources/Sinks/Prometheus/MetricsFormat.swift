/// The exposition formats `GET /metrics` serves, chosen from the scraper's `Accept` header.
public enum MetricsFormat: Sendable, Equatable {
    /// Prometheus text format 0.0.4: what every scraper understands, and the default.
    case prometheusText
    /// OpenMetrics text 1.0.0 (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md):
    /// the same series, plus exemplars (the trace of a recent observation) on latency buckets.
    case openMetrics

    public var contentType: String {
        switch self {
        case .prometheusText: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Content negotiation (RFC 9110 §12.5.1): OpenMetrics when the header names
    /// `application/openmetrics-text` (unversioned or version 1.0.0, the one served) with a
    /// q-value above 0 and at least that of the text format (`text/plain`, `text/*`, `*/*`).
    /// Anything else, a missing header included, gets the 0.0.4 text: a wildcard alone never
    /// switches a plain client (curl) to OpenMetrics.
    public init(accept: String?) {
        var openMetrics = 0.0
        var text = 0.0
        for range in (accept ?? "").split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingWhitespace().lowercased() }
            guard let type = parts.first, !type.isEmpty else { continue }
            var quality = 1.0
            var version: String?
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
                guard pair.count == 2 else { continue }
                switch pair[0] {
                case "q": quality = Double(pair[1]).map { min(max($0, 0), 1) } ?? 0
                case "version": version = pair[1]
                default: continue
                }
            }
            switch type {
            case "application/openmetrics-text" where version == nil || version == "1.0.0":
                openMetrics = max(openMetrics, quality)
            case "text/plain" where version == nil || version == "0.0.4", "text/*", "*/*":
                text = max(text, quality)
            default: continue
            }
        }
        self = openMetrics > 0 && openMetrics >= text ? .openMetrics : .prometheusText
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
