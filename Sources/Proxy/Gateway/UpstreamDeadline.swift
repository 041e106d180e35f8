/// Bounds the wait on an upstream by the attempt's timeout, whatever the transport does with it
/// (the network transport bounds only the wait for the response head; the in-process one not at
/// all): the call runs as a child task, cancelled when the time is up, which cancels its HTTP
/// request.
enum UpstreamDeadline {
    static func run<Value: Sendable>(
        within limit: Duration, _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TransportError.timeout }
            return value
        }
    }
}
