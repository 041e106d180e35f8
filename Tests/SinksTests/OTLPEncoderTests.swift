import Foundation
import SwiftProtobuf
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Sinks
@testable import Telemetry

@Suite struct OTLPEncoderTests {
    /// The `ExportTraceServiceRequest` (229 bytes) for this span, as the reference implementation
    /// encodes it: Python's `opentelemetry-proto` 1.45.2 from
    /// https://github.com/open-telemetry/opentelemetry-proto/tree/main/opentelemetry/proto/trace/v1
    static let golden =
        "0ae2010a160a140a0c736572766963652e6e616d6512040a02677712c7010a0b0a0267771205302e312e3012b7010a104bf9"
        + "2f3577b34da6a3ce929d0e0e4736120800f067aa0ba902b72a0b63686174206770742d346f30033900002a36fe9c97174100"
        + "2f928ffe9c97174a1f0a1567656e5f61692e6f7065726174696f6e2e6e616d6512060a04636861744a1f0a1967656e5f6169"
        + "2e75736167652e696e7075745f746f6b656e731202180a4a2c0a1e67656e5f61692e726573706f6e73652e66696e6973685f"
        + "726561736f6e73120a2a080a060a0473746f707a021801850101010000"

    @Test func encodesTheGoldenVectorByteForByte() throws {
        var attributes = Attributes()
        attributes["gen_ai.operation.name"] = .string("chat")
        attributes["gen_ai.usage.input_tokens"] = .int(10)
        attributes["gen_ai.response.finish_reasons"] = .stringArray(["stop"])
        let span = SpanData(
            traceID: try #require(TraceID(hex: "4bf92f3577b34da6a3ce929d0e0e4736")),
            spanID: try #require(SpanID(hex: "00f067aa0ba902b7")), parentSpanID: nil, parentIsRemote: false,
            traceFlags: 0x01, traceState: nil, name: "chat gpt-4o", kind: .client,
            startNanos: 1_700_000_000_000_000_000, endNanos: 1_700_000_001_500_000_000, attributes: attributes,
            events: [], status: .ok)
        let encoder = OTLPEncoder(
            resource: [SpanAttribute("service.name", .string("gw"))], scopeName: "gw", scopeVersion: "0.1.0")
        let bytes = encoder.encode([FinishedSpanBuilder(server: span, requestID: "r").build()])
        #expect(bytes.map { String(format: "%02x", $0) }.joined() == Self.golden)
    }

    @Test func decodedBackFieldByField() throws {
        let parent = TraceParent(traceID: TraceID.random(), spanID: SpanID.random(), flags: 1)
        let server = Span(name: "POST /v1/chat/completions", kind: .server, parent: parent, traceState: "k=v")
        let client = server.child(name: "chat gpt-4o-mini", kind: .client)
        client.setAttributes([
            ("gen_ai.usage.cost", .double(0.25)), ("gen_ai.request.stream", .bool(true)),
            ("gen_ai.usage.output_tokens", .int(42)), ("spanway.model_group", .string("g")),
        ])
        client.addEvent("first_chunk")
        client.setStatus(.error(message: "upstream 500"))
        let clientData = client.end()
        let serverData = server.end()
        let batch = [FinishedSpanBuilder(server: serverData, attempts: [clientData], requestID: "r").build()]
        let encoder = OTLPEncoder(
            resource: [SpanAttribute("service.name", .string("svc"))], scopeName: "spanway", scopeVersion: "1")
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: encoder.encode(batch))

        let resourceSpans = try #require(decoded.resourceSpans.first)
        #expect(resourceSpans.resource.attributes.first?.key == "service.name")
        #expect(resourceSpans.resource.attributes.first?.value.stringValue == "svc")
        let scope = try #require(resourceSpans.scopeSpans.first)
        #expect(scope.scope.name == "spanway" && scope.scope.version == "1")
        #expect(scope.spans.count == 2)
        let s = scope.spans[0]
        let c = scope.spans[1]
        #expect(s.traceID == Data(parent.traceID.bytes) && c.traceID == s.traceID)
        #expect(s.parentSpanID == Data(parent.spanID.bytes))
        #expect(c.parentSpanID == s.spanID)
        #expect(s.kind == .server && c.kind == .client)
        #expect(s.flags == 0x301 && c.flags == 0x101)
        #expect(s.traceState == "k=v")
        #expect(c.name == "chat gpt-4o-mini")
        #expect(c.startTimeUnixNano == clientData.startNanos && c.endTimeUnixNano == clientData.endNanos)
        let attrs = Dictionary(uniqueKeysWithValues: c.attributes.map { ($0.key, $0.value) })
        #expect(attrs["gen_ai.usage.cost"]?.doubleValue == 0.25)
        #expect(attrs["gen_ai.request.stream"]?.boolValue == true)
        #expect(attrs["gen_ai.usage.output_tokens"]?.intValue == 42)
        #expect(attrs["spanway.model_group"]?.stringValue == "g")
        #expect(c.events.map(\.name) == ["first_chunk"])
        #expect(c.status.code == .error && c.status.message == "upstream 500")
        #expect(s.status.code == .unset)
    }
}

@Suite struct OTLPConfigurationTests {
    @Test func genericEndpointGetsTheTracesPathAndKeepsItsBasePath() throws {
        let config = try #require(
            OTLPConfiguration.fromEnvironment(
                ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/mycollector/"], enabled: false, serviceVersion: "1"))
        #expect(config.endpoint == "http://c:4318/mycollector/v1/traces")
        #expect(OTLPConfiguration.tracesURL(base: "http://c:4318") == "http://c:4318/v1/traces")
    }

    @Test func signalEndpointIsUsedAsIs() throws {
        let config = try #require(
            OTLPConfiguration.fromEnvironment(
                ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b/custom"],
                enabled: false, serviceVersion: "1"))
        #expect(config.endpoint == "http://b/custom")
    }

    @Test func disabledWithoutEndpointUnlessAskedFor() throws {
        #expect(OTLPConfiguration.fromEnvironment([:], enabled: false, serviceVersion: "1") == nil)
        #expect(
            OTLPConfiguration.fromEnvironment([:], enabled: true, serviceVersion: "1")?.endpoint
                == "http://localhost:4318/v1/traces")
        #expect(
            OTLPConfiguration.fromEnvironment(
                ["OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a"], enabled: true, serviceVersion: "1")
                == nil)
    }

    @Test func headersCompressionTimeoutAndResource() throws {
        let config = try #require(
            OTLPConfiguration.fromEnvironment(
                [
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a",
                    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20abc%3D, x-tenant = t1,broken",
                    "OTEL_EXPORTER_OTLP_COMPRESSION": "none", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
                    "OTEL_RESOURCE_ATTRIBUTES": "service.name=fromattrs,deployment.environment=prod%2Ceu",
                    "OTEL_SERVICE_NAME": "gateway-prod",
                ], enabled: false, serviceVersion: "1"))
        #expect(config.headers.map { "\($0.0)=\($0.1)" } == ["authorization=Basic abc=", "x-tenant=t1"])
        #expect(!config.gzip)
        #expect(config.timeout == .milliseconds(2500))
        let resource = Dictionary(uniqueKeysWithValues: config.resource.map { ($0.key, $0.value) })
        #expect(resource["service.name"] == .string("gateway-prod"))
        #expect(resource["deployment.environment"] == .string("prod,eu"))
    }
}

@Suite struct DeliveryTests {
    @Test func retryAfterSecondsAndHTTPDate() {
        #expect(RetryAfter.parse("3") == .seconds(3))
        #expect(RetryAfter.parse(" 1.5 ") == .milliseconds(1500))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: 784_111_767) == .seconds(10))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: 884_111_767) == .zero)
        #expect(RetryAfter.parse("soon") == nil)
        #expect(RetryAfter.parse("-1") == nil)
    }

    @Test func backoffGrowsIsJitteredAndCapped() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), maxRetries: 5)
        for retry in 1...8 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (retry - 1)), .seconds(1))
            let delay = backoff.delay(beforeRetry: retry)
            #expect(delay <= ceiling && delay >= ceiling / 2)
        }
        #expect(backoff.delay(beforeRetry: 1, retryAfter: .seconds(30)) == .seconds(1))
        #expect(backoff.delay(beforeRetry: 1, retryAfter: .milliseconds(300)) == .milliseconds(300))
    }
}
