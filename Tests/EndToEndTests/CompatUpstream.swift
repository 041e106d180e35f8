import Foundation
import GatewayTesting
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Store
import Synchronization
import Telemetry

@testable import Proxy

/// An upstream for the Azure, `/health` and model-info tests: Azure OpenAI's deployment paths and
/// OpenAI's `/v1` paths, answered by `MockUpstream`, with every request recorded. A model named
/// `leaky-401` is refused with a 401 that repeats the key it was sent, as careless providers do,
/// so tests can check that the gateway never passes a key on.
final class CompatUpstream: Sendable {
    struct Seen: Sendable {
        var path: String
        var query: String?
        var headers: HTTPFields
        var model: String?
    }

    let seen = Mutex<[Seen]>([])

    /// Requests whose body named `model`.
    func calls(model: String) -> Int { seen.withLock { $0.filter { $0.model == model }.count } }

    var all: [Seen] { seen.withLock { $0 } }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let mock = MockUpstream()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
            let bytes = Array(body.readableBytesView)
            let model = (try? JSONParser.parse(bytes))?["model"]?.stringValue
            self.seen.withLock {
                $0.append(Seen(path: request.uri.path, query: request.uri.query, headers: request.headers, model: model))
            }
            if model == "leaky-401" {
                let key = request.headers[.authorization] ?? request.headers[HTTPField.Name("api-key")!] ?? ""
                let text =
                    #"{"error":{"message":"Incorrect API key provided: \#(key).","type":"invalid_request_error","code":"invalid_api_key"}}"#
                return Response(
                    status: .unauthorized, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            }
            var headers = HTTPHeaders()
            for field in request.headers { headers.add(name: field.name.canonicalName, value: field.value) }
            // MockUpstream answers by the path's ending, which Azure's paths share with OpenAI's.
            let answer = try await mock.respond(
                to: UpstreamRequest(url: request.uri.path, headers: headers, body: bytes))
            var fields = HTTPFields()
            for header in answer.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            var out: [UInt8] = []
            for try await buffer in answer.body { out += Array(buffer.readableBytesView) }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: out)))
        }
        for path in ["/chat/completions", "/embeddings"] {
            router.post(RouterPath("/openai/deployments/:deployment" + path), use: handler)
            router.post(RouterPath("/v1" + path), use: handler)
        }
        return router
    }

    /// Runs the upstream and, against it, the gateway with `config`, where `{compat}` stands for
    /// the upstream's origin.
    static func with(
        config: String, clock: any GatewayClock = SystemClock(), otlp: Bool = false,
        wrapStore: @escaping (SQLiteStore) -> any GatewayStore = { $0 },
        _ body: (Harness, CompatUpstream) async throws -> Void
    ) async throws {
        let upstream = CompatUpstream()
        try await withTestServer(upstream.router()) { port in
            let yaml = config.replacingOccurrences(of: "{compat}", with: "http://127.0.0.1:\(port)")
            try await Harness.with(config: yaml, otlp: otlp, clock: clock, wrapStore: wrapStore) { h in
                try await body(h, upstream)
            }
        }
    }
}

/// The shipped price table, read by the tests themselves to compute expected prices.
enum ShippedPrices {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/Telemetry/Resources/model_prices_and_context_window.json").standardized.path

    static func row(_ name: String) throws -> JSONValue {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let table = try JSONParser.parse(Array(data), limits: .upstreamResponse)
        guard let row = table[name] else { throw MissingRow(name: name) }
        return row
    }

    struct MissingRow: Error { var name: String }
}
