import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Telemetry

/// The network transport: AsyncHTTPClient with pooled connections; bodies stream through.
public struct HTTPTransport: Transport {
    let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func send(_ request: UpstreamRequest, timeout: Duration) async throws -> UpstreamResponse {
        var outbound = HTTPClientRequest(url: request.url)
        outbound.method = request.method
        outbound.headers = request.headers
        if !request.bodyParts.isEmpty {
            let parts = request.bodyParts
            let length = parts.reduce(0) { $0 + $1.readableBytes }
            let stream = AsyncStream<ByteBuffer> { continuation in
                for part in parts { continuation.yield(part) }
                continuation.finish()
            }
            outbound.body = .stream(stream, length: .known(Int64(length)))
        } else if !request.body.isEmpty {
            outbound.body = .bytes(ByteBuffer(bytes: request.body))
        }
        do {
            let response = try await client.execute(outbound, deadline: .now() + .nanoseconds(timeout.nanoseconds))
            if (300..<400).contains(response.status.code) { return Self.redirectRefused(Int(response.status.code)) }
            return UpstreamResponse(status: Int(response.status.code), headers: response.headers, body: response.body)
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            throw TransportError.timeout
        } catch let error as HTTPClientError
            where error == .invalidURL || error == .emptyHost
            || error == .unsupportedScheme(request.url)
        {
            throw TransportError.invalidURL
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportError.connectionFailed
        }
    }

    /// A redirect is not followed: it would carry the deployment's key (`api-key`, `x-api-key`,
    /// `x-goog-api-key`) to the target. The client is built with redirects off
    /// (`GatewayBootstrap.makeHTTPClient`); the 3xx becomes a 502 in OpenAI's error shape, which
    /// every adapter maps and the router logs. The answer's body and `location` are dropped.
    static func redirectRefused(_ status: Int) -> UpstreamResponse {
        let message = "The upstream answered with a redirect (HTTP \(status)), which the gateway does not follow."
        let body = JSONValue.object([
            "error": .object([
                "message": .string(message), "type": "api_error", "code": "upstream_redirect", "param": .null,
            ])
        ]).encoded()
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        continuation.yield(ByteBuffer(bytes: body))
        continuation.finish()
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        return UpstreamResponse(status: 502, headers: headers, body: stream)
    }
}
