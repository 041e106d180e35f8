import Testing

@testable import Telemetry

@Suite struct TraceParentTests {
    @Test func parsesAndFormatsVersion00() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let parent = try #require(TraceParent(header: header))
        #expect(parent.traceID.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parent.spanID.hex == "00f067aa0ba902b7")
        #expect(parent.sampled)
        #expect(parent.header == header)
        #expect(parent.traceID.bytes.count == 16 && parent.spanID.bytes.count == 8)
    }

    @Test(arguments: [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero span id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // v00 must be exactly 55
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "",
    ])
    func invalidHeadersStartANewTrace(header: String) {
        #expect(TraceParent(header: header) == nil)
    }

    @Test func futureVersionsAreReadByTheirPrefix() throws {
        let parent = try #require(TraceParent(header: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever"))
        #expect(!parent.sampled)
        #expect(parent.header == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
    }

    @Test func serverSpanContinuesTheCallersTraceAndChildrenShareIt() throws {
        let parent = try #require(TraceParent(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        let server = Span(name: "POST /v1/chat/completions", kind: .server, parent: parent, traceState: "a=b")
        let client = server.child(name: "chat m", kind: .client)
        #expect(server.traceID == parent.traceID)
        #expect(server.parentSpanID == parent.spanID && server.parentIsRemote)
        #expect(client.parentSpanID == server.spanID && !client.parentIsRemote)
        #expect(client.traceParent.header.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-\(client.spanID.hex)"))
        #expect(server.traceState == "a=b")
        let fresh = Span(name: "x", kind: .server, parent: nil, traceState: "ignored")
        #expect(fresh.parentSpanID == nil && fresh.isSampled && fresh.traceState == nil)
    }

    @Test func endingTwiceKeepsTheFirstEnd() {
        let span = Span(name: "x", kind: .client, parent: nil)
        span[attribute: "a"] = .int(1)
        let first = span.end()
        span[attribute: "a"] = .int(2)
        let second = span.end(at: .now + .seconds(5))
        #expect(first.endNanos == second.endNanos)
        #expect(second.attributes["a"] == .int(1))
        #expect(first.endNanos >= first.startNanos)
    }
}
