import Telemetry

/// The answer to `/api/v1/query`: its status, error, and samples (a scalar result is one
/// sample without labels; `NaN` and `±Inf` values are kept as such).
struct PrometheusQueryResult: Sendable {
    struct Sample: Sendable {
        var labels: [String: String]
        var value: Double
    }

    var status: String
    var error: String?
    var samples: [Sample]

    var succeeded: Bool { status == "success" }
    /// Samples with a finite value: `histogram_quantile` over no traffic, and 0/0, give NaN.
    var finiteSamples: [Sample] { samples.filter { $0.value.isFinite } }

    init(_ reply: JSONValue) {
        status = reply["status"]?.stringValue ?? "missing"
        error = reply["error"]?.stringValue.map { "\(reply["errorType"]?.stringValue ?? "error"): \($0)" }
        let data = reply["data"]
        switch data?["resultType"]?.stringValue {
        case "vector":
            samples = (data?["result"]?.arrayValue ?? []).map { item in
                Sample(labels: Self.labels(item["metric"]), value: Self.value(item["value"]))
            }
        case "scalar":
            samples = [Sample(labels: [:], value: Self.value(data?["result"]))]
        default:
            samples = []
        }
    }

    /// `[<unix seconds>, "<value>"]`.
    private static func value(_ pair: JSONValue?) -> Double {
        pair?.arrayValue?.last?.stringValue.flatMap(Double.init) ?? .nan
    }

    private static func labels(_ metric: JSONValue?) -> [String: String] {
        var labels: [String: String] = [:]
        for (name, value) in metric?.objectValue?.members ?? [] { labels[name] = value.stringValue ?? "" }
        return labels
    }
}
