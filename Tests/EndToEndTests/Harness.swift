import AsyncHTTPClient
import CompressNIO
import Foundation
import GatewayTesting
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Store
import Synchronization
import Telemetry
import TelemetryTesting
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

/// An OTLP/HTTP receiver that decodes what it gets with the generated protobuf types.
final class OTLPReceiver: Sendable {
    struct Export: Sendable {
        var headers: HTTPFields
        var request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    }

    let exports = Mutex<[Export]>([])
    /// Answer 503 (with `retry-after: 0`) to this many requests first.
    let failuresLeft = Atomic<Int>(0)
    let attempts = Atomic<Int>(0)

    var spans: [Opentelemetry_Proto_Trace_V1_Span] {
        exports.withLock { $0.flatMap { $0.request.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) } } }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/traces") { request, _ -> Response in
            self.attempts.add(1, ordering: .relaxed)
            if self.failuresLeft.load(ordering: .relaxed) > 0 {
                self.failuresLeft.subtract(1, ordering: .relaxed)
                return Response(status: .serviceUnavailable, headers: [.retryAfter: "0"])
            }
            var body = try await request.body.collect(upTo: 64 * 1024 * 1024)
            if request.headers[.contentEncoding] == "gzip" { body = try body.decompress(with: .gzip()) }
            let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(
                serializedBytes: Array(body.readableBytesView))
            self.exports.withLock { $0.append(Export(headers: request.headers, request: decoded)) }
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        return router
    }
}

/// Records what the mock upstream saw.
final class UpstreamLog: Sendable {
    let requests = Mutex<[UpstreamRequest]>([])
    let abandonedStreams = Atomic<Int>(0)

    var count: Int { requests.withLock { $0.count } }
    var last: UpstreamRequest? { requests.withLock { $0.last } }
}

/// Starts a mock upstream, an OTLP receiver and the gateway, all in-process on port 0.
struct Harness {
    let gatewayURL: String
    let upstreamPort: Int
    let upstream: UpstreamLog
    let receiver: OTLPReceiver
    /// Callback sinks' destination: `{hooks}` in the config and the environment.
    let hooks: HookReceiver
    let gateway: Gateway
    let database: SQLiteStore
    let client: HTTPClient
    /// The gateway's requests, as a client sends them.
    let api: GatewayClient

    static let master = "sk-e2e-master"
    static let upstreamKey = "sk-e2e-upstream-secret"

    typealias Reply = GatewayClient.Reply

    /// The store as the admin API reads it: once the ledger has written every row journaled so far.
    var store: SQLiteStore {
        get async {
            await gateway.ledger?.flush()
            return database
        }
    }

    /// `config` is YAML with `{upstream}` standing for the mock upstream's base URL (`…/v1`) and
    /// `{upstream_root}` for its origin. `clock` is what the gateway's decisions read (pass a
    /// `ManualClock` to drive rate-limit windows, budget periods and key expiry); `logger` is the
    /// gateway's; `wrapStore` may put a fault-injecting store in front of the real one; without
    /// `journal` every answer waits for its row's store transaction; `database` is another
    /// harness's, for replicas of one gateway.
    static func with(
        config: String, environment: [String: String] = [:], otlp: Bool = true, clock: any GatewayClock = SystemClock(),
        logger gatewayLogger: Logger? = nil, wrapStore: (SQLiteStore) -> any GatewayStore = { $0 }, journal: Bool = true,
        sharing database: SQLiteStore? = nil, _ body: (Harness) async throws -> Void
    ) async throws {
        var logger = Logger(label: "e2e")
        logger.logLevel = .warning
        let upstreamLog = UpstreamLog()
        let mock = MockUpstream(
            onRequest: { request in upstreamLog.requests.withLock { $0.append(request) } },
            onStreamAbandoned: { upstreamLog.abandonedStreams.add(1, ordering: .relaxed) })
        let receiver = OTLPReceiver()
        let hooks = HookReceiver()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let upstreamClient = GatewayBootstrap.makeHTTPClient()
        var helpers: [TestServer] = []
        var gatewayServer: TestServer?
        // Everything started is stopped, and both HTTP clients are shut down, whatever failed:
        // a client that is never shut down crashes the process when it is deinitialised.
        func stop() async throws {
            var failure: (any Error)?
            // The gateway stops first, so its last spans still reach a running receiver.
            for server in [gatewayServer].compactMap({ $0 }) + helpers {
                do { try await server.stop() } catch { failure = failure ?? error }
            }
            for http in [upstreamClient, client] {
                do { try await http.shutdown() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
        }
        do {
            for router in [
                FixtureUpstream.addRoutes(to: MockUpstreamServer.makeRouter(upstream: mock), log: upstreamLog),
                receiver.router(), hooks.router(),
            ] {
                helpers.append(try await TestServer.start(router, logger: logger))
            }
            let upstreamPort = helpers[0].port
            var env = ["OTEL_BSP_SCHEDULE_DELAY": "20", "OTEL_SERVICE_NAME": "spanway-e2e"]
            if otlp { env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(helpers[1].port)" }
            hooks.port.store(helpers[2].port, ordering: .relaxed)
            let hooksRoot = hooks.root
            env.merge(environment.mapValues { $0.replacingOccurrences(of: "{hooks}", with: hooksRoot) }) { $1 }
            let yaml = config.replacingOccurrences(of: "{upstream}", with: "http://127.0.0.1:\(upstreamPort)/v1")
                .replacingOccurrences(of: "{upstream_root}", with: "http://127.0.0.1:\(upstreamPort)")
                .replacingOccurrences(of: "{hooks}", with: hooksRoot)
            let loader = ProviderCatalogue.configLoader(environment: env.merging(["E2E_UPSTREAM_KEY": upstreamKey]) { $1 })
            let gatewayConfig = try loader.load(yaml: yaml)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("spanway-e2e-\(UUID().uuidString).db").path
            // Replicas of one gateway share their database (each keeps its own journal).
            let store = try database ?? SQLiteStore(path: path)
            let gateway = try GatewayBootstrap(
                config: gatewayConfig, environment: env, httpClient: upstreamClient, mockUpstream: mock,
                store: wrapStore(store), journalDirectory: journal ? path + ".spend-journal" : nil,
                logger: gatewayLogger ?? logger,
                clock: clock
            ).makeGateway()
            let server = try await TestServer.start(logger: logger) { listening in
                GatewayApplication.services(gateway: gateway, host: "127.0.0.1", port: 0, logger: logger) { listening($0) }
            }
            gatewayServer = server
            let gatewayURL = "http://127.0.0.1:\(server.port)"
            let harness = Harness(
                gatewayURL: gatewayURL, upstreamPort: upstreamPort, upstream: upstreamLog, receiver: receiver, hooks: hooks,
                gateway: gateway, database: store, client: client,
                api: GatewayClient(baseURL: gatewayURL, http: client, masterKey: master))
            try await body(harness)
        } catch {
            try? await stop()
            throw error
        }
        try await stop()
    }

    func send(
        _ path: String, json: String? = nil, method: HTTPMethod = .POST, key: String? = Harness.master,
        headers extra: [(String, String)] = []
    ) async throws -> Reply {
        try await api.send(path, json: json, method: method, key: key, headers: extra)
    }

    /// A new virtual key with these `/key/generate` fields.
    func newKey(_ fields: String = "{}") async throws -> String {
        try await api.newKey(fields)
    }

    func chat(_ model: String, stream: Bool = false, includeUsage: Bool = false, extra: [(String, String)] = []) async throws
        -> Reply
    {
        var body = #"{"model":"\#(model)","messages":[{"role":"user","content":"Say hello"}]"#
        if stream { body += #","stream":true"# }
        if includeUsage { body += #","stream_options":{"include_usage":true}"# }
        return try await send("/v1/chat/completions", json: body + "}", headers: extra)
    }

    /// Polls until `condition` holds or a few seconds pass.
    func eventually(_ what: Comment, _ condition: () async throws -> Bool) async throws {
        try await GatewayTesting.eventually(what, condition)
    }

    func metrics() async throws -> String {
        try await send("/metrics", key: nil).text
    }

    /// `/metrics`, parsed strictly: a malformed exposition fails the test.
    func exposition() async throws -> MetricsExposition {
        try MetricsExposition(try await metrics())
    }
}

extension Opentelemetry_Proto_Trace_V1_Span {
    subscript(attribute key: String) -> Opentelemetry_Proto_Common_V1_AnyValue? {
        attributes.first { $0.key == key }?.value
    }

    var traceHex: String { traceID.map { String(format: "%02x", $0) }.joined() }
}
