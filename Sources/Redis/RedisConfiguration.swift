/// Where the Redis server is and how long to wait for it.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// An ACL user (Redis 6+); nil authenticates as the default user when a password is set.
    public var username: String?
    public var password: String?
    /// `SELECT`ed on every new connection when non-zero.
    public var database: Int
    public var connectTimeout: Duration
    /// Deadline of each command, from the write to its reply. Short, because a rate-limiter call sits on the
    /// request path and must never hold a request long.
    public var commandTimeout: Duration
    /// Connections in the pool, opened lazily; each pipelines many concurrent requests.
    public var maxConnections: Int
    /// Reconnect delay after the first failed connect; it doubles on each further failure (with jitter)
    /// up to `maximumReconnectDelay`. Until then requests fail fast with `.connection`.
    public var minimumReconnectDelay: Duration
    public var maximumReconnectDelay: Duration
    /// Set with `CLIENT SETNAME` on every connection, so `CLIENT LIST` shows whose connections these are.
    /// No spaces (Redis refuses them).
    public var clientName: String?

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = .seconds(2)
        self.commandTimeout = .milliseconds(500)
        self.maxConnections = 4
        self.minimumReconnectDelay = .milliseconds(100)
        self.maximumReconnectDelay = .seconds(5)
        self.clientName = nil
    }

    /// `redis://[[user]:password@]host[:port][/db]`, user and password percent-decoded.
    /// `rediss://` (TLS) and unix sockets are refused with a clear error. Errors never echo the URL,
    /// which may hold the password.
    public init(url: String) throws(RedisError) {
        let components = try RedisURL(parsing: url)
        self.init(
            host: components.host,
            port: components.port,
            username: components.username,
            password: components.password,
            database: components.database
        )
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// Safe to log: the password is never shown.
    public var description: String {
        let user = self.username.map { "\($0)@" } ?? (self.password == nil ? "" : "<password>@")
        let db = self.database == 0 ? "" : "/\(self.database)"
        return "redis://\(user)\(self.hostAndPort)\(db)"
    }

    var hostAndPort: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
