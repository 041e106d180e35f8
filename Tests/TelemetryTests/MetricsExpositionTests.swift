import TelemetryTesting
import Testing

/// The exposition parser every metrics check goes through: exact values, exact labels, and text
/// the format does not allow refused (https://prometheus.io/docs/instrumenting/exposition_formats/).
@Suite struct MetricsExpositionTests {
    static let text = """
        # HELP spanway_requests_total Requests.
        # TYPE spanway_requests_total counter
        spanway_requests_total{team="a",status_code="200"} 10
        spanway_requests_total{team="a",status_code="500"} 1
        spanway_requests_total{team="q\\"x\\\\y\\nz",status_code="200"} 2.5e-1
        # TYPE d_seconds histogram
        d_seconds_bucket{le="0.5"} 1
        d_seconds_bucket{le="+Inf"} 2
        d_seconds_sum 1.25
        d_seconds_count 2

        """

    @Test func valuesAndLabelsAreReadExactly() throws {
        let metrics = try MetricsExposition(Self.text)
        #expect(try metrics.value(of: "spanway_requests_total", labels: ["team": "a", "status_code": "200"]) == 10)
        #expect(try metrics.value(of: "spanway_requests_total", labels: ["team": "a", "status_code": "500"]) == 1)
        #expect(try metrics.value(of: "spanway_requests_total", labels: ["team": "q\"x\\y\nz"]) == 0.25)
        #expect(try metrics.value(of: "spanway_requests_total", labels: ["team": "b"]) == nil)
        #expect(throws: MetricsExposition.Problem.self) { try metrics.value(of: "spanway_requests_total", labels: ["team": "a"]) }
        #expect(metrics.buckets(of: "d_seconds").map(\.upperBound) == [0.5, .infinity])
        #expect(try metrics.value(of: "d_seconds_count") == 2)
    }

    @Test(arguments: [
        "# TYPE x counter\nx 1",  // no final line feed
        "x 1\n",  // no TYPE
        "# TYPE x counter\nx{a=\"1\"} one\n",
        "# TYPE x counter\nx{a=1} 1\n",
        "# TYPE x counter\nx{a=\"1\" 1\n",
        "# TYPE x counter\nx{a=\"\\t\"} 1\n",
        "# TYPE x counter\nx 1 2 3\n",
        "# TYPE x counter\nx inf\n",
        "# TYPE x counter\nx 1\nx 2\n",
        "# TYPE x counter\n# TYPE x gauge\n",
        "# TYPE x counter\nx{a=\"1\",a=\"2\"} 1\n",
    ])
    func malformedTextIsRefused(_ text: String) {
        #expect(throws: MetricsExposition.Problem.self) { try MetricsExposition(text) }
    }
}
