import Testing

@testable import Telemetry

@Suite struct SamplerTests {
    @Test func readsTheStandardVariables() {
        #expect(Sampler.fromEnvironment([:]).sampler == .parentBasedAlwaysOn)
        #expect(
            Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "always_off"]).sampler
                == Sampler(root: .alwaysOff, parentBased: false))
        let ratio = Sampler.fromEnvironment([
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25",
        ])
        #expect(ratio.sampler == Sampler(root: .traceIDRatio(0.25), parentBased: true) && ratio.problem == nil)
        let bad = Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"])
        #expect(bad.sampler == Sampler(root: .traceIDRatio(1), parentBased: false) && bad.problem != nil)
        let unknown = Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "jaeger_remote"])
        #expect(unknown.sampler == .parentBasedAlwaysOn && unknown.problem?.contains("jaeger_remote") == true)
    }

    @Test func ratioKeepsAboutThatShareDecidedByTheTraceID() throws {
        let sampler = Sampler(root: .traceIDRatio(0.25), parentBased: false)
        let ids = (0..<20_000).map { _ in TraceID.random() }
        let kept = ids.filter { sampler.shouldSample(traceID: $0, parent: nil) }.count
        #expect((4_400...5_600).contains(kept))
        // Every hop agrees: another service configured the same way, reading the trace id from the
        // `traceparent` header this hop sends, decides the same for every id.
        let nextHop = Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"]).sampler
        for id in ids.prefix(200) {
            let header = TraceParent(traceID: id, spanID: SpanID.random(), flags: 0).header
            let received = try #require(TraceParent(header: header)).traceID
            #expect(sampler.shouldSample(traceID: id, parent: nil) == nextHop.shouldSample(traceID: received, parent: nil))
        }
        // Consistent across ratios: a trace kept at 25 % is kept at 50 %, so a lower-rate hop
        // never keeps a trace a higher-rate hop drops.
        let half = Sampler(root: .traceIDRatio(0.5), parentBased: false)
        #expect(ids.allSatisfy { !sampler.shouldSample(traceID: $0, parent: nil) || half.shouldSample(traceID: $0, parent: nil) })
        // The rule's boundary: kept when the low 63 bits of the id are below 0.25 × 2^63 = 2^61;
        // the id's top bit plays no part. (The comparison is in doubles, so the id just below
        // the bound is one a double holds exactly: 2^61 − 256.)
        let below = try #require(TraceID(high: 1, low: 0x1FFF_FFFF_FFFF_FF00))
        let at = try #require(TraceID(high: 1, low: 0x2000_0000_0000_0000))
        let topBit = try #require(TraceID(high: 1, low: 0x8000_0000_0000_0001))
        #expect(sampler.shouldSample(traceID: below, parent: nil))
        #expect(!sampler.shouldSample(traceID: at, parent: nil))
        #expect(sampler.shouldSample(traceID: topBit, parent: nil))
    }

    @Test func parentBasedFollowsTheCallerAndSpansCarryTheDecision() {
        let unsampledParent = TraceParent(traceID: TraceID.random(), spanID: SpanID.random(), flags: 0x02)
        let sampledParent = TraceParent(traceID: TraceID.random(), spanID: SpanID.random(), flags: 0x01)
        let sampler = Sampler(root: .alwaysOn, parentBased: true)
        #expect(!sampler.shouldSample(traceID: unsampledParent.traceID, parent: unsampledParent))
        #expect(Sampler(root: .alwaysOff, parentBased: true).shouldSample(traceID: sampledParent.traceID, parent: sampledParent))
        // Without parentbased the root decides, whatever the caller said.
        #expect(
            !Sampler(root: .alwaysOff, parentBased: false).shouldSample(traceID: sampledParent.traceID, parent: sampledParent))
        let span = Span(name: "s", kind: .server, parent: unsampledParent, sampler: sampler)
        #expect(!span.isSampled && span.traceFlags == 0x02)
        #expect(
            Span(name: "s", kind: .server, parent: nil, sampler: Sampler(root: .alwaysOff, parentBased: true)).traceFlags == 0)
    }

    @Test func emailsAreRedactedOnlyWhereTheyAre() {
        #expect(SecretRedactor.scrubEmails("write to ada.l+x@example.co.uk.") == "write to [redacted-email].")
        #expect(SecretRedactor.scrubEmails("a@b, me@host.io and you@x.org") == "a@b, [redacted-email] and [redacted-email]")
        #expect(SecretRedactor.scrubEmails("@handle and user@localhost and 2@3.45") == "@handle and user@localhost and 2@3.45")
        #expect(SecretRedactor.scrubEmails("no at sign") == "no at sign")
    }
}
