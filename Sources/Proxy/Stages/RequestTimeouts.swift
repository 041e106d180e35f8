/// A request's own timeouts (LiteLLM's body parameters and headers), and the chain that picks
/// the one an attempt gets: the first value set wins, in LiteLLM's order.
///
/// - Not streaming: the request's `timeout` (`x-litellm-timeout`), its `request_timeout`, the
///   deployment's `timeout`, `litellm_settings.request_timeout`, `router_settings.timeout`, else
///   6000 s.
/// - Streaming: the request's `stream_timeout` (`x-litellm-stream-timeout`), the deployment's
///   `stream_timeout`, `router_settings.stream_timeout`; with none of them, the chain above.
public struct RequestTimeouts: Sendable, Equatable {
    /// `timeout` in the body, or the `x-litellm-timeout` header (which wins).
    public var timeout: Duration?
    /// `request_timeout` in the body.
    public var requestTimeout: Duration?
    /// `stream_timeout` in the body, or the `x-litellm-stream-timeout` header (which wins).
    public var streamTimeout: Duration?

    public init(timeout: Duration? = nil, requestTimeout: Duration? = nil, streamTimeout: Duration? = nil) {
        self.timeout = timeout
        self.requestTimeout = requestTimeout
        self.streamTimeout = streamTimeout
    }

    /// The timeout an attempt gets, and whether the client chose it (a client-chosen timeout
    /// never counts against the deployment's health).
    public struct Choice: Sendable, Equatable {
        public var duration: Duration
        public var clientChosen: Bool
    }

    /// For an attempt on `deployment` (nil: before any deployment is chosen).
    public func choice(stream: Bool, deployment: DeploymentConfig?, router: RouterBehaviour) -> Choice {
        if stream {
            if let streamTimeout { return Choice(duration: streamTimeout, clientChosen: true) }
            if let own = deployment?.streamTimeout ?? router.streamTimeout { return Choice(duration: own, clientChosen: false) }
        }
        if let client = timeout ?? requestTimeout { return Choice(duration: client, clientChosen: true) }
        let configured = deployment?.timeout ?? router.requestTimeout ?? router.timeout ?? RouterBehaviour.defaultTimeout
        return Choice(duration: configured, clientChosen: false)
    }

    /// Seconds as LiteLLM prints a float (`6000.0`, `0.25`): the `x-litellm-timeout` header and
    /// the timeout message carry it.
    public static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        let whole = milliseconds / 1000
        let fraction = milliseconds % 1000
        guard fraction > 0 else { return "\(whole).0" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
