import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// Serves `MockUpstream` over HTTP: `spanway mock-upstream`, and the upstream of end-to-end tests.
public enum MockUpstreamServer {
    public static func makeRouter(upstream: MockUpstream) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 64 * 1024 * 1024)
            var headers = HTTPHeaders()
            for field in request.headers { headers.add(name: field.name.canonicalName, value: field.value) }
            let upstreamRequest = UpstreamRequest(
                method: HTTPMethod(rawValue: request.method.rawValue), url: request.uri.description, headers: headers,
                body: Array(body.readableBytesView))
            let answer = try await upstream.respond(to: upstreamRequest)
            var fields = HTTPFields()
            for header in answer.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody { writer in
                    for try await buffer in answer.body { try await writer.write(buffer) }
                    try await writer.finish(nil)
                })
        }
        for prefix in ["", "/v1"] {
            router.post(RouterPath(prefix + "/chat/completions"), use: handler)
            router.post(RouterPath(prefix + "/embeddings"), use: handler)
            router.get(RouterPath(prefix + "/models"), use: handler)
            router.delete(RouterPath(prefix + "/responses/:id"), use: handler)
            router.post(RouterPath(prefix + "/messages"), use: handler)
            for path in [
                "/responses", "/responses/input_tokens", "/completions", "/images/generations", "/moderations", "/audio/speech",
                "/audio/transcriptions", "/audio/translations", "/rerank",
            ] {
                router.post(RouterPath(prefix + path), use: handler)
            }
        }
        router.post("/v2/rerank", use: handler)
        return router
    }
}
