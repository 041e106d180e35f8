import Logging
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
    /// This turn's input as Responses items with ids (`ResponseInputItems`), and the response it
    /// continued: what `GET /v1/responses/{id}/input_items` lists.
    var input: [JSONValue] = []
    var previousID: String?
    /// The deployment that answered, and whether it did so natively (its own id is `response.id`
    /// there, so a later turn on the same deployment can pass `previous_response_id` through).
    var deploymentID: String
    var native: Bool
    var expiresAt: Double
    /// What it weighs against the store's byte bound.
    var bytes: Int
    /// In the gateway's store (written there, or read from it): from then on the store decides
    /// whether it still exists, since another replica may delete it.
    var persisted = false
}

/// The responses the gateway produced: in memory, bounded in count and bytes (the oldest go
/// first) and expiring (`spanway_settings.responses_ttl`); with a store, also written through to
/// it (SQLite or PostgreSQL), so they outlive a restart and every replica reads them. A caller
/// sees only its own. Writes to the store never hold up a request: they run behind it, at most
/// `maxPendingWrites` at a time, and one past that is dropped and logged (the response stays in
/// memory).
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
    let backing: (any ResponseArchive)?
    let logger: Logger
    /// Store writes in flight, by number (with the response's id), and writes made (every 256th
    /// also removes expired rows).
    private let writes = Mutex((pending: [Int: (id: String, task: Task<Void, Never>)](), made: 0))
    static let maxPendingWrites = 64

    init(
        limits: Limits = Limits(), clock: any GatewayClock, backing: (any ResponseArchive)? = nil,
        logger: Logger = Logger(label: "spanway.responses")
    ) {
        self.limits = limits
        self.clock = clock
        self.backing = backing
        self.logger = logger
    }

    func put(_ response: StoredResponse) {
        var response = response
        response.expiresAt = clock.nowSeconds() + limits.ttlSeconds
        keep(response)
        if let backing { persist(response, in: backing) }
    }

    /// Keeps it in memory only.
    private func keep(_ response: StoredResponse) {
        state.withLock { state in
            if let old = state.entries[response.id] { state.bytes -= old.bytes }
            state.entries[response.id] = response
            state.order.append(response.id)
            state.bytes += response.bytes
            evict(&state, now: clock.nowSeconds())
        }
    }

    /// The response with this id if `owner` may see it and it has not expired: from the store
    /// when it is there (another replica's, one from before a restart, or one another replica
    /// has since deleted), else from memory (a store write still pending, or no store). When the
    /// store cannot be read, memory answers.
    func get(_ id: String, owner: String) async -> StoredResponse? {
        let now = clock.nowSeconds()
        let remembered = state.withLock { $0.entries[id] }
        var entry = remembered.flatMap { $0.expiresAt > now ? $0 : nil }
        if let backing, remembered?.persisted ?? true {
            do {
                entry = try await backing.load(id: id, now: now)
                if var loaded = entry, remembered == nil {
                    loaded.persisted = true
                    keep(loaded)
                } else if entry == nil, remembered != nil {
                    forget(id)
                }
            } catch {
                logger.warning("could not read a kept response", metadata: ["error": "\(type(of: error))"])
            }
        }
        guard let entry, owner == "master" || entry.owner == owner else { return nil }
        return entry
    }

    /// Drops it from memory (the store no longer has it).
    private func forget(_ id: String) {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return }
            state.bytes -= entry.bytes
        }
    }

    /// Removes it; false when `owner` has no such response. Its store write, if still in flight,
    /// lands first: a write after the delete would bring it back. When the store cannot delete
    /// it, it is still there for every replica: the caller is told, and may try again.
    func delete(_ id: String, owner: String) async throws(GatewayError) -> Bool {
        let removed = state.withLock { state -> Bool in
            guard let entry = state.entries[id], owner == "master" || entry.owner == owner else { return false }
            state.entries[id] = nil
            state.bytes -= entry.bytes
            return true
        }
        guard let backing else { return removed }
        for write in writes.withLock({ $0.pending.values.filter { $0.id == id } }) { await write.task.value }
        do {
            return try await backing.delete(id: id, owner: owner == "master" ? nil : owner) || removed
        } catch {
            logger.warning("could not delete a kept response", metadata: ["error": "\(type(of: error))"])
            throw GatewayError(.storeUnavailable, "The response could not be deleted from the gateway's store; try again.")
        }
    }

    /// Writes it to the store behind the request; every 256th write also removes expired rows, in
    /// a task of its own (a delete waiting for this write does not wait for the sweep).
    private func persist(_ response: StoredResponse, in backing: any ResponseArchive) {
        let number = writes.withLock { writes -> Int? in
            guard writes.pending.count < Self.maxPendingWrites else { return nil }
            writes.made += 1
            return writes.made
        }
        guard let number else {
            logger.warning(
                "a kept response was not written to the store: too many writes pending", metadata: ["id": "\(response.id)"])
            return
        }
        let now = clock.nowSeconds()
        writes.withLock { writes in
            writes.pending[number] = (
                response.id,
                Task { [self] in
                    defer { _ = self.writes.withLock { $0.pending.removeValue(forKey: number) } }
                    do {
                        try await backing.save(response, now: now)
                        self.state.withLock { $0.entries[response.id]?.persisted = true }
                    } catch {
                        logger.warning("could not write a kept response", metadata: ["error": "\(type(of: error))"])
                    }
                }
            )
        }
        guard number % 256 == 0 else { return }
        Task { [logger] in
            do {
                _ = try await backing.deleteExpired(now: now)
            } catch {
                logger.warning("could not remove expired responses", metadata: ["error": "\(type(of: error))"])
            }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Waits for the store writes in flight (tests, shutdown).
    func flush() async {
        for write in writes.withLock({ Array($0.pending.values) }) { await write.task.value }
    }

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

/// Where kept responses outlive the memory that holds them: the gateway's store.
protocol ResponseArchive: Sendable {
    func save(_ response: StoredResponse, now: Double) async throws
    /// Nil when absent or expired at `now`.
    func load(id: String, now: Double) async throws -> StoredResponse?
    /// `owner` nil: whoever's it is.
    func delete(id: String, owner: String?) async throws -> Bool
    func deleteExpired(now: Double) async throws -> Int
}
