import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Telemetry
import Testing

/// An HTTP client for a running gateway: one request, the whole answer.
public struct GatewayClient: Sendable {
    public let baseURL: String
    public let http: HTTPClient
    /// Sent when a call names no key; admin calls (`newKey`) always use it.
    public let masterKey: String

    public init(baseURL: String, http: HTTPClient, masterKey: String) {
        self.baseURL = baseURL
        self.http = http
        self.masterKey = masterKey
    }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var json: JSONValue? { try? JSONParser.parse(body) }

        public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// A GET when there is no body (unless `method` says otherwise), else `method` with a JSON body.
    public func send(
        _ path: String, json: String? = nil, method: HTTPMethod = .POST, key: String?, headers extra: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = json == nil ? (method == .POST ? .GET : method) : method
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
    }

    /// Creates a virtual key with `fields` (a `/key/generate` body) and returns it; records the
    /// gateway's answer when it made none.
    public func newKey(_ fields: String = "{}") async throws -> String {
        let reply = try await send("/key/generate", json: fields, key: masterKey)
        return try #require(reply.json?["key"]?.stringValue, "\(reply.status): \(reply.text)")
    }
}

/// Polls until `condition` holds, for up to about 45 seconds of pauses (inside the suites'
/// three-minute limits, which only catch hangs: with every suite running at once on two cores,
/// a test that takes two seconds alone can take a minute); records an issue when it never does. For state the
/// test cannot be told about (a sink's delivery, a background flush).
public func eventually(_ what: Comment, _ condition: () async throws -> Bool) async throws {
    // The pause doubles from 5 ms to 250 ms: quick when the condition is met at once, and cheap
    // while it is not (a condition may render /metrics or query the store, and a few hundred
    // tests wait at once on two cores). About 45 s of pauses in all before giving up.
    var pause = Duration.milliseconds(5)
    var paused = Duration.zero
    while paused < .seconds(45) {
        if try await condition() { return }
        try await Task.sleep(for: pause)
        paused += pause
        pause = min(pause * 2, .milliseconds(250))
    }
    Issue.record("timed out waiting: \(what)")
}

/// Parses an SSE body into its `data:` payloads.
public func ssePayloads(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { frame in
        frame.hasPrefix("data: ") ? String(frame.dropFirst(6)) : nil
    }
}
