/// How much a client may hold of the gateway: connections, and how long it may take to send a
/// request or read an answer. `spanway_settings` keys of the same names (seconds for durations).
public struct ServerLimits: Sendable, Equatable {
    /// `max_connections`: open client connections; past it, new ones wait in the listen backlog.
    public var maxConnections = 4096
    /// `request_header_timeout`: from a connection's start (or its previous answer) to a complete
    /// request head. Slow-loris clients that never finish a head are cut off after it.
    public var requestHeaderTimeout: Duration = .seconds(10)
    /// `request_body_timeout`: from the head to the body's last byte.
    public var requestBodyTimeout: Duration = .seconds(60)
    /// `idle_timeout`: a keep-alive connection with no request in flight is closed after it.
    public var idleTimeout: Duration = .seconds(75)
    /// `max_stream_duration`: the longest a streamed answer may run, start to last chunk.
    public var maxStreamDuration: Duration = .seconds(3600)
    /// `stream_write_timeout`: how long one write to a streaming client may block (a client
    /// that stops reading); the stream ends as a disconnect after it.
    public var streamWriteTimeout: Duration = .seconds(60)

    public init() {}

    /// The settings' YAML names, for the unknown-key check.
    static let keys: Set<String> = [
        "max_connections", "request_header_timeout", "request_body_timeout", "idle_timeout", "max_stream_duration",
        "stream_write_timeout",
    ]
}
