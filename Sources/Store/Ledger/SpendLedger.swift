import Logging
import Synchronization

/// The spend ledger: every settled request's row goes to the store, none is lost.
///
/// With a journal, `commit` returns as soon as the row is appended to it (durable against a
/// crash of the process), and a writer ingests the journal's rows into the store in batches,
/// off the request path, retrying while the store fails. Without one, or when an append fails,
/// `commit` waits for the row's store transaction (group commit: rows that arrive while one is
/// written go together in the next).
public final class SpendLedger: Sendable {
    private struct Entry {
        var row: SpendRow
        /// The journal segment holding the row; nil when the row is only in memory.
        var segment: Int?
        /// The caller waiting for the store transaction, when the row is not journaled.
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private struct State {
        var pending: [Entry] = []
        var writing = false
        /// Rows ever queued, and rows written (or, not journaled, given up): `flush` compares them.
        var queued = 0
        var finished = 0
        var flushes: [(until: Int, done: CheckedContinuation<Void, Never>)] = []
        /// When rows past retention were last deleted (seconds); nil before the first time.
        var prunedAt: Double?
    }

    /// Rows per store transaction.
    static let batchLimit = 2000

    private let store: any GatewayStore
    public let journal: SpendJournal?
    private let ingested: @Sendable ([SpendRow]) -> Void
    private let logger: Logger
    private let retention: SpendRetention?
    private let state = Mutex(State())

    /// `ingested` hears of every row once it is in the store (the budgets count it from there on).
    /// Rows a previous process left in the journal are queued at once.
    public init(
        store: any GatewayStore, journal: SpendJournal? = nil, logger: Logger = Logger(label: "spanway.ledger"),
        retention: SpendRetention? = nil, ingested: @escaping @Sendable ([SpendRow]) -> Void = { _ in }
    ) {
        self.store = store
        self.retention = retention
        self.journal = journal
        self.ingested = ingested
        self.logger = logger
        guard let leftover = journal?.leftover() else { return }
        if leftover.unreadableLines > 0 {
            logger.warning(
                "spend journal lines could not be read back", metadata: ["lines": "\(leftover.unreadableLines)"])
        }
        if !leftover.rows.isEmpty {
            logger.info("replaying the spend journal", metadata: ["rows": "\(leftover.rows.count)"])
            enqueue { leftover.rows.map { Entry(row: $0.row, segment: $0.segment) } }
        } else {
            journal?.discard(segmentsBelow: .max)
        }
    }

    /// Returns once the row is durable: in the journal, or else in the store.
    public func commit(_ row: SpendRow) async throws {
        if let journal {
            do {
                let line = SpendJournal.line(for: row)
                // Appended and queued under one lock: the writer deletes a segment only when no
                // row of it is waiting, so no row may be in a segment and not yet in the queue.
                try enqueue { () throws(SpendJournal.Failure) in [Entry(row: row, segment: try journal.append(line))] }
                return
            } catch {
                logger.error(
                    "spend journal append failed; writing the row to the store directly", metadata: ["error": "\(error)"])
            }
        }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            enqueue { [Entry(row: row, waiter: waiter)] }
        }
    }

    /// Returns once every row committed before the call is in the store, or a store write has
    /// failed since (a read after it must not hang on a broken store).
    public func flush() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let waiting = state.withLock { state -> Bool in
                guard state.finished < state.queued else { return false }
                state.flushes.append((state.queued, done))
                return true
            }
            if !waiting { done.resume() }
        }
    }

    /// Flushes, then closes the journal (deleting it when every row reached the store).
    public func close() async {
        await flush()
        let drained = state.withLock { $0.pending.isEmpty && !$0.writing }
        journal?.close(drained: drained)
    }

    private func enqueue<Failure: Error>(_ make: () throws(Failure) -> [Entry]) throws(Failure) {
        let startWriter = try state.withLock { (state: inout State) throws(Failure) -> Bool in
            let entries = try make()
            state.pending.append(contentsOf: entries)
            state.queued += entries.count
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        // The writer outlives no row: it stops as soon as nothing is pending.
        if startWriter { Task { await self.writeUntilEmpty() } }
    }

    private func writeUntilEmpty() async {
        var backoff: Duration = .milliseconds(50)
        while true {
            let batch = state.withLock { state -> [Entry] in
                let batch = Array(state.pending.prefix(Self.batchLimit))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            journal?.syncIfNeeded()
            let rows = batch.map(\.row)
            do {
                try await store.recordSpend(rows)
                backoff = .milliseconds(50)
                ingested(rows)
                for entry in batch { entry.waiter?.resume() }
                // Before `finish`, so a flush also waits for it; after the waiters, who need not.
                await pruneIfDue()
                finish(batch.count, failed: false)
                if let journal {
                    // Read under the lock appends take: every row of an older segment is in the store.
                    let oldest = state.withLock { $0.pending.compactMap(\.segment).min() ?? journal.openSegment }
                    journal.discard(segmentsBelow: oldest)
                }
            } catch {
                // Journaled rows wait for the store to come back; the others' callers hear of it.
                let kept = batch.filter { $0.segment != nil }
                for entry in batch { entry.waiter?.resume(throwing: error) }
                state.withLock { $0.pending.insert(contentsOf: kept, at: 0) }
                finish(batch.count - kept.count, failed: true)
                logger.error(
                    "spend rows could not be written to the store",
                    metadata: ["rows": "\(batch.count)", "kept_in_journal": "\(kept.count)", "error": "\(type(of: error))"])
                if !kept.isEmpty {
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
        }
    }

    /// Deletes rows past retention when the last prune is `interval` ago: after a batch, so a
    /// database only grows while rows arrive and is pruned only while the gateway writes to it.
    private func pruneIfDue() async {
        guard let retention else { return }
        let now = retention.clock.nowSeconds()
        let due = state.withLock { state -> Bool in
            if let last = state.prunedAt, now - last < retention.interval { return false }
            state.prunedAt = now
            return true
        }
        guard due else { return }
        do {
            let deleted = try await store.pruneSpendLogs(before: retention.cutoff(now: now))
            if deleted > 0 { logger.info("spend rows past retention deleted", metadata: ["rows": "\(deleted)"]) }
        } catch {
            logger.error("spend rows past retention could not be deleted", metadata: ["error": "\(type(of: error))"])
        }
    }

    /// Counts `count` rows as finished and releases the flushes they complete (all of them after
    /// a failure).
    private func finish(_ count: Int, failed: Bool) {
        let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.finished += count
            let finished = state.finished
            let (done, waiting) = (
                state.flushes.filter { failed || $0.until <= finished }, state.flushes.filter { !failed && $0.until > finished }
            )
            state.flushes = waiting
            return done.map(\.done)
        }
        for continuation in released { continuation.resume() }
    }
}
