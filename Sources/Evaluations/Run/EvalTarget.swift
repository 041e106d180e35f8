/// One chat completion as the runner sends it.
public struct EvalRequest: Sendable {
    public var body: [UInt8]
    /// `content-type`, `traceparent` and the evaluation headers; the target adds its credentials.
    public var headers: [(String, String)]
    public var stream: Bool

    public init(body: [UInt8], headers: [(String, String)], stream: Bool) {
        self.body = body
        self.headers = headers
        self.stream = stream
    }
}

/// What came back, whole: the runner parses it after the last byte.
public struct EvalResponse: Sendable {
    /// 0 when the request never got an HTTP answer (`transportError` says why).
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// A streamed answer's trailing headers (its cost), when the target can read them.
    public var trailers: [(String, String)]
    public var transportError: String?

    public init(
        status: Int, headers: [(String, String)] = [], body: [UInt8] = [], trailers: [(String, String)] = [],
        transportError: String? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.transportError = transportError
    }

    public func header(_ name: String) -> String? {
        (headers + trailers).last { $0.0.lowercased() == name }?.1
    }
}

/// Where an evaluation's requests go: a gateway in this process, or one over HTTP. Either way
/// each request runs the whole pipeline (keys, budgets, routing, spans, cost, ledger).
public protocol EvalTarget: Sendable {
    /// Sends one request; `firstChunk` is called once, when the first bytes of the body arrive.
    func send(_ request: EvalRequest, firstChunk: @escaping @Sendable () -> Void) async -> EvalResponse
}
