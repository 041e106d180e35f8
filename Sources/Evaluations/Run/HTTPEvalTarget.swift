import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A running gateway, over HTTP: `--url` and `--key`, so the key's budgets and limits apply.
public struct HTTPEvalTarget: EvalTarget {
    let endpoint: String
    let key: String?
    let client: HTTPClient
    let timeout: Duration
    /// Answers larger than this are cut off and reported as failed.
    static let maxBodyBytes = 16 << 20

    /// `baseURL` is the gateway's origin (`http://localhost:4000`), with or without `/v1`.
    public init(baseURL: String, key: String?, client: HTTPClient, timeout: Duration = .seconds(600)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        self.endpoint = base + "/v1/chat/completions"
        self.key = key
        self.client = client
        self.timeout = timeout
    }

    public func send(_ request: EvalRequest, firstChunk: @escaping @Sendable () -> Void) async -> EvalResponse {
        var http = HTTPClientRequest(url: endpoint)
        http.method = .POST
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        if let key { http.headers.add(name: "authorization", value: "Bearer \(key)") }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        do {
            let response = try await client.execute(http, timeout: .nanoseconds(timeout.nanosecondsClamped))
            var body: [UInt8] = []
            var first = true
            for try await buffer in response.body {
                if first, buffer.readableBytes > 0 {
                    first = false
                    firstChunk()
                }
                guard body.count + buffer.readableBytes <= Self.maxBodyBytes else {
                    return EvalResponse(status: 0, transportError: "the answer is larger than 16 MiB")
                }
                body.append(contentsOf: buffer.readableBytesView)
            }
            return EvalResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body)
        } catch {
            return EvalResponse(status: 0, transportError: Self.describe(error))
        }
    }

    /// A short, key-free description of a transport failure.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout { return "timed out" }
            if error == .connectTimeout { return "connection timed out" }
            if error == .remoteConnectionClosed { return "connection closed" }
        }
        if error is CancellationError { return "cancelled" }
        return "cannot reach the gateway"
    }
}

extension Duration {
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 1_000_000_000 else { return Int64.max }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
