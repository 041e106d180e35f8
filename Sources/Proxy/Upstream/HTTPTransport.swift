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
        if !request.body.isEmpty {
            outbound.body = .bytes(ByteBuffer(bytes: request.body))
        }
        do {
            let response = try await client.execute(outbound, deadline: .now() + .nanoseconds(timeout.nanoseconds))
            return UpstreamResponse(status: Int(response.status.code), headers: response.headers, body: response.body)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            throw TransportError.timeout
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost
            || error == .unsupportedScheme(request.url)
        {
            throw TransportError.invalidURL
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportError.connectionFailed
        }
    }
}
