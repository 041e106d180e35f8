import Synchronization

/// Group commit for spend rows. `commit` returns once the row is durable; rows that arrive while
/// a transaction is being written go together in the next one, so many concurrent requests cost
/// one transaction, not one each.
public final class SpendLedger: Sendable {
    private struct State {
        var pending: [(row: SpendRow, done: CheckedContinuation<Void, any Error>)] = []
        var writing = false
    }

    private let store: any GatewayStore
    private let state = Mutex(State())

    public init(store: any GatewayStore) {
        self.store = store
    }

    public func commit(_ row: SpendRow) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startWriter = state.withLock { state -> Bool in
                state.pending.append((row, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriter {
                // The writer outlives no request: it stops as soon as nothing is pending.
                Task { await self.writeUntilEmpty() }
            }
        }
    }

    private func writeUntilEmpty() async {
        while true {
            let batch = state.withLock { state in
                defer { state.pending.removeAll(keepingCapacity: true) }
                if state.pending.isEmpty { state.writing = false }
                return state.pending
            }
            guard !batch.isEmpty else { return }
            do {
                try await store.recordSpend(batch.map(\.row))
                for entry in batch { entry.done.resume() }
            } catch {
                for entry in batch { entry.done.resume(throwing: error) }
            }
        }
    }
}
