/// Every failure of the Redis client. Messages never contain the password.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Connecting failed, or the server is known to be down (fail-fast until the next retry).
        case connection
        /// A command or the connect handshake passed its deadline.
        case timeout
        /// The server replied with an error line.
        case server
        /// The server sent bytes that are not valid RESP2 or exceed the client's limits.
        case protocolViolation
        /// The connection closed under a request, or the client was shut down.
        case closed
        /// The configuration or URL is unusable.
        case configuration
    }

    public var kind: Kind
    /// For `.server`: the server's error line, e.g. "NOSCRIPT No matching script. Please use EVAL.".
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The first word of a server error line ("NOSCRIPT", "WRONGPASS", "ERR"), or nil for other kinds.
    public var serverErrorCode: Substring? {
        guard self.kind == .server else { return nil }
        return self.message.split(separator: " ", maxSplits: 1).first
    }

    public var description: String { "Redis \(self.kind): \(self.message)" }
}
