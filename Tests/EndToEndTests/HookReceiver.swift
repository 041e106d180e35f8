import CompressNIO
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Telemetry

/// An in-process receiver for callback sinks: records every request under any path, and can be
/// told to fail the requests of a path prefix until told otherwise.
final class HookReceiver: Sendable {
    struct Hook: Sendable {
        var path: String
        var headers: HTTPFields
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONParser.parse(body) }
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    }

    let hooks = Mutex<[Hook]>([])
    /// `127.0.0.1:port`, once listening (what `{hooks}` stands for).
    let port = Atomic<Int>(0)
    var root: String { "127.0.0.1:\(port.load(ordering: .relaxed))" }
    /// Path prefix → status answered instead of taking the request.
    let failing = Mutex<[String: HTTPResponse.Status]>([:])
    let refused = Atomic<Int>(0)

    func received(under prefix: String) -> [Hook] {
        hooks.withLock { $0.filter { $0.path.hasPrefix(prefix) } }
    }

    /// Every payload delivered anywhere, as text: for checks that nothing leaked.
    var everything: String {
        hooks.withLock { $0.map { $0.text + "\n" + $0.headers.map(\.value).joined(separator: "\n") }.joined(separator: "\n") }
    }

    func fail(_ prefix: String, with status: HTTPResponse.Status?) {
        failing.withLock { $0[prefix] = status }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("**") { request, _ -> Response in
            let path = request.uri.path
            if let status = self.failing.withLock({ table in table.first { path.hasPrefix($0.key) }?.value }) {
                self.refused.add(1, ordering: .relaxed)
                return Response(status: status, headers: [.retryAfter: "0"])
            }
            var body = try await request.body.collect(upTo: 64 * 1024 * 1024)
            if request.headers[.contentEncoding] == "gzip" { body = try body.decompress(with: .gzip()) }
            let hook = Hook(path: path, headers: request.headers, body: Array(body.readableBytesView))
            self.hooks.withLock { $0.append(hook) }
            // Langfuse's batch API answers 207 with one result per event.
            if path.hasSuffix("/api/public/ingestion"), let batch = hook.json?["batch"]?.arrayValue {
                let successes = batch.compactMap { $0["id"] }.map { JSONValue.object(["id": $0, "status": .int(201)]) }
                let answer = JSONValue.object(["successes": .array(successes), "errors": .array([])])
                return Response(
                    status: .init(code: 207), headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: answer.encoded())))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        return router
    }
}
