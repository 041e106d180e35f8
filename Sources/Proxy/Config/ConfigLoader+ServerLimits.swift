import Yams

extension ConfigLoader {
    /// `spanway_settings.max_connections` and the client timeouts (seconds, greater than 0, at
    /// most a day).
    func readServerLimits(_ spanway: [String: Node], into limits: inout ServerLimits, _ reader: inout YAMLReader) {
        if let node = spanway["max_connections"], let count = reader.int(node, at: "spanway_settings.max_connections") {
            if count > 0 {
                limits.maxConnections = count
            } else {
                reader.error("spanway_settings.max_connections", "must be greater than 0")
            }
        }
        let durations: [(String, WritableKeyPath<ServerLimits, Duration>)] = [
            ("request_header_timeout", \.requestHeaderTimeout), ("request_body_timeout", \.requestBodyTimeout),
            ("idle_timeout", \.idleTimeout), ("max_stream_duration", \.maxStreamDuration),
            ("stream_write_timeout", \.streamWriteTimeout),
        ]
        for (key, field) in durations {
            guard let node = spanway[key], let timeout = reader.timeout(node, at: "spanway_settings.\(key)") else { continue }
            limits[keyPath: field] = timeout
        }
    }
}
