import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

@testable import Proxy

/// Provider endpoints that play back the shared provider fixtures (scenario A for plain calls,
/// scenario B for streams), for end-to-end tests of translated providers: Gemini's
/// `models/{model}:generateContent` and Bedrock's `model/{id}/converse(-stream)`.
enum FixtureUpstream {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../ProxyTests/Fixtures").standardized

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func addRoutes(to router: Router<BasicRequestContext>, log: UpstreamLog) -> Router<BasicRequestContext> {
        @Sendable func record(_ request: Request, body: ByteBuffer) {
            var headers = HTTPHeaders()
            for field in request.headers { headers.add(name: field.name.canonicalName, value: field.value) }
            log.requests.withLock {
                $0.append(UpstreamRequest(url: request.uri.description, headers: headers, body: Array(body.readableBytesView)))
            }
        }
        @Sendable func play(_ file: String, _ contentType: String) throws -> Response {
            Response(
                status: .ok, headers: [.contentType: contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try bytes(file))))
        }
        router.post("/v1beta/models/:action") { request, context -> Response in
            record(request, body: try await request.body.collect(upTo: 1 << 20))
            let action = context.parameters.get("action") ?? ""
            if action.hasSuffix(":streamGenerateContent") {
                return try play("gemini/streamGenerateContent.sse", "text/event-stream")
            }
            return try play("gemini/generateContent.response.json", "application/json")
        }
        router.post("/model/:id/converse") { request, _ -> Response in
            record(request, body: try await request.body.collect(upTo: 1 << 20))
            return try play("bedrock/converse.response.json", "application/json")
        }
        router.post("/model/:id/converse-stream") { request, _ -> Response in
            record(request, body: try await request.body.collect(upTo: 1 << 20))
            return try play("bedrock/converse-stream.bin", "application/vnd.amazon.eventstream")
        }
        return router
    }
}
