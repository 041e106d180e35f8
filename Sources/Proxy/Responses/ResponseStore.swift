import Synchronization
import Telemetry

/// A response the gateway produced, kept for `previous_response_id`, `GET` and `DELETE`.
public struct StoredResponse: Sendable {
    public var id: String
    /// Who may read it: the caller's key digest, or `master`.
    var owner: String
    /// The `Response` object as the client got it.
    var response: JSONObject
    /// The conversation up to and including this turn, as chat messages (no instructions).
    var history: [JSONValue]
    /// The deployment that answered, and whether it did so natively (its own id is `response.id`
    /// there, so a later turn on the same deployment can pass `previous_response_id` through).
    var deploymentID: String
    var native: Bool
    var expiresAt: Double
    /// What it weighs against the store's byte bound.
    var bytes: Int
}

/// The responses the gateway produced, in memory: bounded in count and bytes (the oldest go
/// first) and expiring (`spanway_settings.responses_ttl_seconds`). A caller sees only its own.
/// Not shared between replicas and lost at a restart: a continuation that reaches another
/// replica, or comes after a restart, is answered 404 like an expired one.
public final class ResponseStore: Sendable {
    public struct Limits: Sendable {
        public var maxResponses = 10_000
        public var maxBytes = 256 * 1024 * 1024
        public var ttlSeconds: Double = 24 * 3600
        public init() {}
    }

    private struct State {
        var entries: [String: StoredResponse] = [:]
        /// Ids, oldest first (a deleted id stays until it reaches the front).
        var order: [String] = []
        var head = 0
        var bytes = 0
    }

    let limits: Limits
    let clock: any GatewayClock
    private let state = Mutex(State())

    public init(limits: Limits = Limits(), clock: any GatewayClock) {
        self.limits = limits
        self.clock = clock
    }

    func put(_ response: StoredResponse) {
        var response = response
        response.expiresAt = clock.nowSeconds() + limits.ttlSeconds
        state.withLock { state in
            if let old = state.entries[response.id] { state.bytes -= old.bytes }
            state.entries[response.id] = response
            state.order.append(response.id)
            state.bytes += response.bytes
            evict(&state, now: clock.nowSeconds())
        }
    }

    /// The response with this id if `owner` may see it and it has not expired.
    func get(_ id: String, owner: String) -> StoredResponse? {
        let now = clock.nowSeconds()
        return state.withLock { state in
            guard let entry = state.entries[id], entry.expiresAt > now, owner == "master" || entry.owner == owner else {
                return nil
            }
            return entry
        }
    }

    /// Removes it; false when `owner` has no such response.
    func delete(_ id: String, owner: String) -> Bool {
        state.withLock { state in
            guard let entry = state.entries[id], owner == "master" || entry.owner == owner else { return false }
            state.entries[id] = nil
            state.bytes -= entry.bytes
            return true
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    private func evict(_ state: inout State, now: Double) {
        while state.head < state.order.count {
            let id = state.order[state.head]
            guard let entry = state.entries[id] else {
                state.head += 1
                continue
            }
            let over = state.entries.count > limits.maxResponses || state.bytes > limits.maxBytes
            guard over || entry.expiresAt <= now else { break }
            state.entries[id] = nil
            state.bytes -= entry.bytes
            state.head += 1
        }
        // Compact the queue once its consumed front is most of it.
        if state.head > 1024 && state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }
}
