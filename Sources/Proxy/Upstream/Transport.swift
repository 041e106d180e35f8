import NIOCore
import NIOHTTP1

/// An HTTP request to a provider, as an adapter builds it.
public struct UpstreamRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// A body sent as these buffers in order, in place of `body`: an upload forwarded as slices
    /// of the client's, never copied whole.
    public var bodyParts: [ByteBuffer] = []

    public init(method: HTTPMethod = .POST, url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The body's bytes, whichever way it is held (a copy: for the mock upstream and tests).
    public var bodyBytes: [UInt8] {
        bodyParts.isEmpty ? body : bodyParts.reduce(into: body) { $0 += $1.readableBytesView }
    }
}

/// A provider's answer; the body streams in as it arrives.
public struct UpstreamResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: any AsyncSequence<ByteBuffer, any Error> & Sendable

    public init(status: Int, headers: HTTPHeaders, body: any AsyncSequence<ByteBuffer, any Error> & Sendable) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The whole body, refusing more than `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            guard bytes.count + buffer.readableBytes <= limit else { throw TransportError.responseTooLarge }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }
}

public enum TransportError: Error, Sendable, Equatable {
    case timeout
    case connectionFailed
    case responseTooLarge
    case invalidURL
}

/// Sends upstream requests: over the network, or in-process for the `mock` provider.
public protocol Transport: Sendable {
    func send(_ request: UpstreamRequest, timeout: Duration) async throws -> UpstreamResponse
}
