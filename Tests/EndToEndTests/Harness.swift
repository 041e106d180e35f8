import AsyncHTTPClient
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Store
import Telemetry
import Testing

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
    let store: SQLiteStore
    let client: HTTPClient

    static let master = "sk-e2e-master"
    static let upstreamKey = "sk-e2e-upstream-secret"

    /// `config` is YAML with `{upstream}` standing for the mock upstream's base URL (`…/v1`) and
    /// `{upstream_root}` for its origin.
    static func with(
        config: String, environment: [String: String] = [:], otlp: Bool = true,
        _ body: (Harness) async throws -> Void
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

        try await withThrowingTaskGroup(of: Void.self) { group in
            let (ports, portSink) = AsyncStream<(String, Int)>.makeStream()
            func start(_ name: String, _ router: Router<BasicRequestContext>) -> ServiceGroup {
                let app = Application(
                    router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in portSink.yield((name, channel.localAddress?.port ?? 0)) }, logger: logger)
                return ServiceGroup(configuration: .init(services: [app], logger: logger))
            }
            let helpers = [
                start("upstream", FixtureUpstream.addRoutes(to: MockUpstreamServer.makeRouter(upstream: mock), log: upstreamLog)),
                start("receiver", receiver.router()),
                start("hooks", hooks.router()),
            ]
            for helper in helpers { group.addTask { try await helper.run() } }
            var found: [String: Int] = [:]
            for await (name, port) in ports {
                found[name] = port
                if found.count == 3 { break }
            }
            let upstreamPort = found["upstream"] ?? 0
            var env = ["OTEL_BSP_SCHEDULE_DELAY": "20", "OTEL_SERVICE_NAME": "spanway-e2e"]
            if otlp { env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(found["receiver"] ?? 0)" }
            hooks.port.store(found["hooks"] ?? 0, ordering: .relaxed)
            let hooksRoot = hooks.root
            env.merge(environment.mapValues { $0.replacingOccurrences(of: "{hooks}", with: hooksRoot) }) { $1 }
            let yaml = config.replacingOccurrences(of: "{upstream}", with: "http://127.0.0.1:\(upstreamPort)/v1")
                .replacingOccurrences(of: "{upstream_root}", with: "http://127.0.0.1:\(upstreamPort)")
                .replacingOccurrences(of: "{hooks}", with: hooksRoot)
            let loader = ProviderCatalogue.configLoader(environment: env.merging(["E2E_UPSTREAM_KEY": upstreamKey]) { $1 })
            let gatewayConfig = try loader.load(yaml: yaml)
            let upstreamClient = GatewayBootstrap.makeHTTPClient()
            let store = try SQLiteStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("spanway-e2e-\(UUID().uuidString).db").path)
            let gateway = try GatewayBootstrap(
                config: gatewayConfig, environment: env, httpClient: upstreamClient, mockUpstream: mock, store: store,
                logger: logger
            ).makeGateway()
            let (gatewayPorts, gatewayPortSink) = AsyncStream<Int>.makeStream()
            let services = GatewayApplication.services(gateway: gateway, host: "127.0.0.1", port: 0, logger: logger) {
                gatewayPortSink.yield($0)
            }
            let gatewayGroup = ServiceGroup(configuration: .init(services: services, logger: logger))
            let gatewayRun = Task { try await gatewayGroup.run() }
            var gatewayPort = 0
            for await port in gatewayPorts {
                gatewayPort = port
                break
            }
            let harness = Harness(
                gatewayURL: "http://127.0.0.1:\(gatewayPort)", upstreamPort: upstreamPort, upstream: upstreamLog,
                receiver: receiver, hooks: hooks, gateway: gateway, store: store, client: client)
            // The gateway stops first, so its last spans still reach a running receiver.
            func stop() async throws {
                await gatewayGroup.triggerGracefulShutdown()
                try await gatewayRun.value
                for helper in helpers { await helper.triggerGracefulShutdown() }
                try await group.waitForAll()
                try await upstreamClient.shutdown()
            }
            do {
                try await body(harness)
            } catch {
                try? await stop()
                try? await client.shutdown()
                throw error
            }
            try await stop()
            try await client.shutdown()
        }
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONParser.parse(body) }
    }

    func send(
        _ path: String, json: String? = nil, method: HTTPMethod = .POST, key: String? = Harness.master,
        headers extra: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: gatewayURL + path)
        request.method = json == nil ? (method == .POST ? .GET : method) : method
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
    }

    func chat(_ model: String, stream: Bool = false, includeUsage: Bool = false, extra: [(String, String)] = []) async throws -> Reply {
        var body = #"{"model":"\#(model)","messages":[{"role":"user","content":"Say hello"}]"#
        if stream { body += #","stream":true"# }
        if includeUsage { body += #","stream_options":{"include_usage":true}"# }
        return try await send("/v1/chat/completions", json: body + "}", headers: extra)
    }

    /// Polls until `condition` holds or a few seconds pass.
    func eventually(_ what: Comment, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("timed out waiting: \(what)")
    }

    func metrics() async throws -> String {
        try await send("/metrics", key: nil).text
    }
}

extension Opentelemetry_Proto_Trace_V1_Span {
    subscript(attribute key: String) -> Opentelemetry_Proto_Common_V1_AnyValue? {
        attributes.first { $0.key == key }?.value
    }

    var traceHex: String { traceID.map { String(format: "%02x", $0) }.joined() }
}

/// Parses an SSE body into its `data:` payloads.
func ssePayloads(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { frame in
        frame.hasPrefix("data: ") ? String(frame.dropFirst(6)) : nil
    }
}
