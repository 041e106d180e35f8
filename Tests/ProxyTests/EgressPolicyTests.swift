import Telemetry
import Testing

@testable import Proxy

/// Plays DNS: each name resolves to the addresses given.
struct FakeResolver: HostResolver {
    var table: [String: [String]]
    func addresses(of host: String) async -> [IPAddress] { (table[host] ?? []).compactMap { IPAddress($0) } }
}

/// Where team destinations set through the admin API may send (issue 11, "Egress").
@Suite struct EgressPolicyTests {
    @Test func ipv4IsReadAsInetAtonReadsIt() {
        let loopback = IPAddress.v4(0x7F00_0001)
        for spelling in ["127.0.0.1", "2130706433", "0x7f.1", "0x7F000001", "0177.0.0.1", "127.1", "127.0.1", "0x7f.0.0.1"] {
            #expect(IPAddress(spelling) == loopback, "\(spelling)")
        }
        #expect(IPAddress("169.254.169.254") == .v4(0xA9FE_A9FE))
        #expect(IPAddress("0xa9.0xfe.0xa9.0xfe") == .v4(0xA9FE_A9FE))
        #expect(IPAddress("2852039166") == .v4(0xA9FE_A9FE))
        for notAnAddress in [
            "256.0.0.1", "1.2.3.4.5", "08.0.0.1", "0x1g.0.0.1", "example.com", "", "1..2", "4294967296", "１２７.0.0.1",
        ] {
            #expect(IPAddress(notAnAddress) == nil, "\(notAnAddress)")
        }
        #expect(IPAddress("[fd00:ec2::254]") == .v6(0xFD00_0EC2_0000_0000_0000_0000_0000_0254))
        #expect(IPAddress("::ffff:127.0.0.1")?.unmapped == loopback)
        #expect(IPAddress("::ffff:7f00:1")?.unmapped == loopback)
    }

    @Test(arguments: [
        ("8.8.8.8", AddressClass.public), ("1.1.1.1", .public), ("2606:4700:4700::1111", .public),
        ("169.254.169.254", .metadata), ("169.254.170.2", .metadata), ("100.100.100.200", .metadata),
        ("fd00:ec2::254", .metadata), ("::ffff:169.254.169.254", .metadata), ("::ffff:a9fe:a9fe", .metadata),
        ("169.254.1.1", .linkLocal), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("::1", .loopback), ("::ffff:127.0.0.1", .loopback),
        ("2130706433", .loopback), ("0x7f.1", .loopback), ("127.1", .loopback), ("::127.0.0.1", .loopback),
        ("64:ff9b::127.0.0.1", .loopback), ("2002:7f00:1::", .loopback),
        ("10.1.2.3", .private), ("172.16.0.1", .private), ("172.31.255.255", .private), ("192.168.1.1", .private),
        ("fc00::1", .private), ("fd12:3456::1", .private), ("::ffff:10.0.0.1", .private), ("fec0::1", .private),
        ("172.32.0.1", .public), ("172.15.255.255", .public), ("100.63.255.255", .public), ("100.128.0.0", .public),
        ("0.0.0.0", .unspecified), ("0", .unspecified), ("::", .unspecified), ("::ffff:0.0.0.0", .unspecified),
        ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
        ("224.0.0.1", .reserved), ("255.255.255.255", .reserved), ("ff02::1", .reserved), ("240.0.0.1", .reserved),
    ])
    func classifies(_ text: String, _ expected: AddressClass) throws {
        let address = try #require(IPAddress(text), "\(text)")
        #expect(AddressClass.of(address) == expected, "\(text)")
    }

    @Test func networksMatchAcrossMappedForms() throws {
        let network = try #require(IPNetwork("10.0.0.0/8"))
        #expect(network.contains(try #require(IPAddress("10.200.0.1"))))
        #expect(network.contains(try #require(IPAddress("::ffff:10.0.0.1"))))
        #expect(!network.contains(try #require(IPAddress("11.0.0.1"))))
        let single = try #require(IPNetwork("127.0.0.1"))
        let shortLoopback = try #require(IPAddress("127.1"))
        let otherLoopback = try #require(IPAddress("127.0.0.2"))
        #expect(single.contains(shortLoopback) && !single.contains(otherLoopback))
        let v6 = try #require(IPNetwork("fd00::/8"))
        let metadata = try #require(IPAddress("fd00:ec2::254"))
        let linkLocal = try #require(IPAddress("fe80::1"))
        #expect(v6.contains(metadata) && !v6.contains(linkLocal))
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/", "example.com/8", "10.0.0.0/8/8"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func rulesAreCIDRsAddressesOrHostNames() {
        #expect(EgressPolicy.Rule("10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(EgressPolicy.Rule("127.0.0.1")?.description == "127.0.0.1/32")
        #expect(EgressPolicy.Rule("Langfuse.Internal.")?.description == "langfuse.internal")
        #expect(EgressPolicy.Rule("*.corp.example")?.description == "*.corp.example")
        for bad in ["", "http://x", "a b", "10.0.0.0/40", "x/y", "*."] { #expect(EgressPolicy.Rule(bad) == nil, "\(bad)") }
    }

    let resolver = FakeResolver(table: [
        "public.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        "internal.example": ["10.0.0.5"],
        "mixed.example": ["93.184.215.14", "169.254.169.254"],
        "loop.example": ["127.0.0.1"],
        "v6meta.example": ["fd00:ec2::254"],
    ])

    @Test func adminSuppliedDestinationsAreCheckedAfterResolution() async {
        let policy = EgressPolicy(resolver: resolver)
        #expect(await policy.check(url: "https://public.example/hook") == nil)
        let refused: [(String, AddressClass)] = [
            ("http://169.254.169.254/latest/meta-data/", .metadata), ("http://[fd00:ec2::254]/", .metadata),
            ("http://metadata.google.internal/computeMetadata/v1/", .metadata), ("http://metadata/", .metadata),
            ("http://100.100.100.200/", .metadata), ("http://169.254.1.2:8080/", .linkLocal), ("http://[fe80::1]/", .linkLocal),
            ("http://localhost:4000/", .loopback), ("http://LOCALHOST./", .loopback), ("http://api.localhost/", .loopback),
            ("http://127.0.0.1/", .loopback), ("http://2130706433/", .loopback), ("http://0x7f.1/", .loopback),
            ("http://127.1/", .loopback), ("http://[::1]/", .loopback), ("http://[::ffff:127.0.0.1]/", .loopback),
            ("http://[::ffff:169.254.169.254]/", .metadata), ("http://10.0.0.1/", .private), ("http://192.168.0.10/", .private),
            ("http://172.16.5.4/", .private), ("http://[fd12::1]/", .private), ("http://0.0.0.0/", .unspecified),
            ("http://[::]/", .unspecified), ("http://100.64.1.1/", .sharedAddressSpace),
            ("https://internal.example/", .private), ("https://mixed.example/", .metadata), ("https://loop.example/", .loopback),
            ("https://v6meta.example/", .metadata),
        ]
        for (url, kind) in refused {
            guard case .forbidden(_, let found)? = await policy.check(url: url) else {
                Issue.record("\(url) was not refused")
                continue
            }
            #expect(found == kind, "\(url)")
        }
        #expect(await policy.check(url: "https://nowhere.example/") == .unresolvable("nowhere.example"))
        for url in [
            "ftp://public.example/", "not a url", "http://169%2e254%2e169%2e254/", "http://user@public.example/", "http:///x",
        ] {
            #expect(await policy.check(url: url) == .notAURL, "\(url)")
        }
    }

    @Test func allowedEgressAllowsByCIDROrName() async {
        let policy = EgressPolicy(
            allowed: ["127.0.0.1", "10.0.0.0/8", "internal.example", "*.corp.example", "169.254.169.254/32"].compactMap(
                EgressPolicy.Rule.init),
            resolver: resolver)
        #expect(await policy.check(url: "http://127.0.0.1:9/") == nil)
        #expect(await policy.check(url: "http://2130706433/") == nil, "the same address, spelled oddly")
        #expect(await policy.check(url: "http://[::ffff:127.0.0.1]/") == nil)
        #expect(await policy.check(url: "https://internal.example/") == nil)
        #expect(await policy.check(url: "https://a.b.corp.example/") == nil, "by name, whatever it resolves to")
        #expect(await policy.check(url: "http://10.9.9.9/") == nil)
        #expect(await policy.check(url: "http://169.254.169.254/") == nil, "the operator allowed it explicitly")
        #expect(await policy.check(url: "http://127.0.0.2/") != nil, "only what is listed")
        #expect(await policy.check(url: "http://192.168.0.1/") != nil)
        #expect(await policy.check(url: "http://metadata.google.internal/") != nil)
    }

    @Test func teamMetadataMayNotReadTheEnvironment() throws {
        func problem(_ value: String) -> TeamTraceSettings.Problem? {
            let metadata = Self.object(
                #"{"logging":[{"callback_name":"langfuse","callback_vars":{"langfuse_public_key":"\#(value)","langfuse_secret_key":"sk"}}]}"#
            )
            do {
                _ = try TeamTraceSettings.parse(teamID: "t", metadata: metadata)
                return nil
            } catch {
                return error
            }
        }
        let field = "metadata.logging[0].callback_vars.langfuse_public_key"
        guard case .invalid(let path, let why)? = problem("os.environ/PATH") else {
            Issue.record("os.environ was accepted")
            return
        }
        #expect(path == field)
        #expect(problem("os.environ/SURELY_NOT_SET_ANYWHERE") == .invalid(path, why), "the same answer whether it exists or not")
        #expect(!why.contains("PATH") && !why.contains("not set"))
        #expect(problem(" OS.ENVIRON/PATH") == .invalid(path, why))
        #expect(problem("pk-lf-plain") == nil)
    }

    static func object(_ text: String) -> JSONObject {
        (try? JSONParser.parse(Array(text.utf8)))?.objectValue ?? [:]
    }

    @Test func theFieldThatCarriedTheDestinationIsNamed() throws {
        let metadata = Self.object(
            #"{"logging":[{"callback_name":"generic_api","callback_vars":{"generic_logger_endpoint":"http://169.254.169.254/"}},"#
                + #"{"callback_name":"langfuse","callback_vars":{"langfuse_public_key":"pk","langfuse_secret_key":"sk"}}]}"#)
        let settings = try TeamTraceSettings.parse(teamID: "t", metadata: metadata)
        #expect(
            settings.destinationFields == [
                "metadata.logging[0].callback_vars.generic_logger_endpoint", "metadata.logging[1].callback_vars",
            ])
    }

    @Test func aDestinationThatRebindsIsDroppedBeforeEachBatch() async throws {
        final class Counting: SpanExporter, @unchecked Sendable {
            let name = "team/t/generic_api"
            var calls = 0
            func deliver(_ batch: [FinishedSpan]) async -> Int {
                calls += 1
                return batch.count
            }
        }
        let sink = try SinkConfig.parse(
            kind: .webhook, name: "team/t/generic_api", values: ["destination": "https://rebinding.example/hook"],
            environment: [:], route: .team("t", outcome: .any), captureContent: false
        ).sink
        let inner = Counting()
        let before = EgressGuardedExporter(
            inner, sink: sink, policy: EgressPolicy(resolver: FakeResolver(table: ["rebinding.example": ["93.184.215.14"]])),
            logger: .init(label: "test"))
        #expect(await before.deliver([]) == 0 && inner.calls == 1, "public: delivered")
        let after = EgressGuardedExporter(
            inner, sink: sink, policy: EgressPolicy(resolver: FakeResolver(table: ["rebinding.example": ["169.254.169.254"]])),
            logger: .init(label: "test"))
        #expect(await after.deliver([]) == 0)
        #expect(inner.calls == 1, "not sent once the name points at the metadata service")
        #expect(after.refused == 1 && after.failedAttempts == 1)
    }
}
