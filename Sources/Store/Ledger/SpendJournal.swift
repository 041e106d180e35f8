import Foundation
import Synchronization
import Telemetry

#if canImport(Glibc)
    import Glibc
#endif

/// Spend rows made durable against a crash of the gateway's process with one `write()` each:
/// once `write` returns the row is in the kernel's page cache, which outlives the process, so a
/// `kill -9` right after the answer loses nothing. The ledger ingests the rows into the store
/// later, off the request path; what a crash leaves un-ingested is read back at the next start.
///
/// The journal is a directory of segments (`spend-<number>.jsonl`, one JSON row per line). A
/// segment is closed once it passes `segmentBytes`, and deleted once every row in it is in the
/// store, so the directory holds about one segment in steady state.
public final class SpendJournal: Sendable {
    /// `spanway_settings.ledger_fsync`: whether rows are also flushed to the disk (power loss),
    /// not only to the page cache (process crash).
    public enum Sync: String, Sendable, CaseIterable {
        /// The page cache only, like the store's SQLite with `synchronous=NORMAL`.
        case none
        /// `fdatasync` once per ingested batch: at most one batch of rows is exposed to power loss.
        case interval
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a previous process left in the directory: rows not known to be in the store.
    public struct Leftover: Sendable {
        public var rows: [(row: SpendRow, segment: Int)]
        /// Lines that could not be read back (a line torn by power loss, a damaged file).
        public var unreadableLines: Int
    }

    /// The segment rows go to. Its file opens on the first append after a failure or a roll-over.
    private struct Segment {
        var number: Int
        var descriptor: Int32?
        var bytes = 0
        var unsynced = false
        var closed = false
    }

    public let directory: String
    public let sync: Sync
    let segmentBytes: Int
    private let current: Mutex<Segment>
    /// Held (`flock`) while the journal is open: two processes sharing one journal would delete
    /// each other's segments.
    private let lockDescriptor: Int32

    /// Opens (creating it when needed) the journal in `directory` and starts a new segment after
    /// the ones found there; `leftover()` reads those.
    public init(directory: String, sync: Sync = .none, segmentBytes: Int = 1 << 20) throws(Failure) {
        self.directory = directory
        self.sync = sync
        self.segmentBytes = segmentBytes
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create the spend journal directory \(directory): \(error)")
        }
        let lockPath = directory + "/lock"
        lockDescriptor = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else {
            throw Failure(description: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(lockDescriptor)
            throw Failure(
                description: "another process is using the spend journal at \(directory); give each gateway its own database")
        }
        let number = (Self.segmentNumbers(in: directory).last ?? 0) + 1
        do {
            current = Mutex(Segment(number: number, descriptor: try Self.open(number: number, in: directory)))
        } catch {
            Glibc.close(lockDescriptor)
            throw error
        }
    }

    /// The row as one line of the journal: JSON that `JSONDecoder` reads back as a `SpendRow`
    /// (written by hand: this runs for every answered request, and `JSONEncoder` costs several
    /// times as much).
    public static func line(for row: SpendRow) -> [UInt8] {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        // JSON has no NaN or infinity; a timing that is not finite is unknown.
        func number(_ value: Double?) -> JSONValue { value.flatMap { $0.isFinite ? JSONValue.double($0) : nil } ?? .null }
        let object = JSONValue.object([
            "requestID": .string(row.requestID), "traceID": .string(row.traceID),
            "startTime": .number(String(row.startTime)), "endTime": .number(String(row.endTime)),
            "keyHash": text(row.keyHash), "keyAlias": text(row.keyAlias), "teamID": text(row.teamID),
            "userID": text(row.userID), "orgID": text(row.orgID), "operation": .string(row.operation),
            "model": text(row.model), "modelGroup": text(row.modelGroup), "deploymentID": text(row.deploymentID),
            "provider": text(row.provider), "inputTokens": .int(row.inputTokens), "outputTokens": .int(row.outputTokens),
            "cacheReadTokens": .int(row.cacheReadTokens), "cacheCreationTokens": .int(row.cacheCreationTokens),
            "reasoningTokens": .int(row.reasoningTokens), "spend": .double(row.spend), "statusCode": .int(row.statusCode),
            "errorType": text(row.errorType), "usageEstimated": .bool(row.usageEstimated),
            "evalRunID": text(row.evalRunID), "evalItemID": text(row.evalItemID),
            "attempts": row.attempts.map(JSONValue.int) ?? .null,
            "fallbackDepth": row.fallbackDepth.map(JSONValue.int) ?? .null, "latencyMs": number(row.latencyMs),
            "upstreamLatencyMs": number(row.upstreamLatencyMs), "overheadMs": number(row.overheadMs),
            "timeToFirstTokenMs": number(row.timeToFirstTokenMs),
            "tags": row.tags.map { .array($0.map(JSONValue.string)) } ?? .null, "endUser": text(row.endUser),
        ])
        var line = object.encoded()
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// Appends a `line(for:)` with one `write()`; returns the number of the segment that holds it.
    public func append(_ line: [UInt8]) throws(Failure) -> Int {
        try current.withLock { (segment: inout Segment) throws(Failure) -> Int in
            guard !segment.closed else { throw Failure(description: "the spend journal is closed") }
            if segment.bytes >= segmentBytes, let full = segment.descriptor {
                Glibc.close(full)
                segment = Segment(number: segment.number + 1)
            }
            let descriptor: Int32
            if let open = segment.descriptor {
                descriptor = open
            } else {
                descriptor = try Self.open(number: segment.number, in: directory)
                segment.descriptor = descriptor
            }
            let written = line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count else {
                // A short or failed write may leave a torn line: the next row starts a new segment,
                // and reading this one back skips what cannot be parsed.
                let reason = written < 0 ? String(cString: strerror(errno)) : "short write"
                Glibc.close(descriptor)
                segment = Segment(number: segment.number + 1)
                throw Failure(description: "cannot append to the spend journal: \(reason)")
            }
            segment.bytes += written
            segment.unsynced = true
            return segment.number
        }
    }

    /// The segment rows are appended to now; never deleted while open.
    public var openSegment: Int { current.withLock { $0.number } }

    /// Flushes appended rows to the disk when `sync` asks for it (`interval`).
    public func syncIfNeeded() {
        guard sync == .interval else { return }
        current.withLock { segment in
            guard segment.unsynced, let descriptor = segment.descriptor else { return }
            _ = fdatasync(descriptor)
            segment.unsynced = false
        }
    }

    /// Deletes the segments numbered below `number` (their rows are all in the store). The open
    /// segment stays until `close`.
    public func discard(segmentsBelow number: Int) {
        let open = current.withLock { $0.number }
        for existing in Self.segmentNumbers(in: directory) where existing < number && existing != open {
            unlink(Self.path(of: existing, in: directory))
        }
    }

    /// Closes the open segment; with `drained` (every row is in the store) deletes every segment.
    public func close(drained: Bool) {
        let wasOpen = current.withLock { segment in
            defer { segment.closed = true }
            segment.descriptor.map { _ = Glibc.close($0) }
            segment.descriptor = nil
            return !segment.closed
        }
        guard wasOpen else { return }
        if drained {
            for number in Self.segmentNumbers(in: directory) { unlink(Self.path(of: number, in: directory)) }
        }
        Glibc.close(lockDescriptor)
    }

    /// The rows of the segments a previous process left, oldest first. Rows already in the store
    /// are among them (the store ignores a request id it has), so reading back is always safe.
    public func leftover() -> Leftover {
        let open = current.withLock { $0.number }
        var result = Leftover(rows: [], unreadableLines: 0)
        let decoder = JSONDecoder()
        for number in Self.segmentNumbers(in: directory) where number != open {
            guard let data = FileManager.default.contents(atPath: Self.path(of: number, in: directory)) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                if let row = try? decoder.decode(SpendRow.self, from: line) {
                    result.rows.append((row, number))
                } else {
                    result.unreadableLines += 1
                }
            }
        }
        return result
    }

    static func segmentNumbers(in directory: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("spend-"), name.hasSuffix(".jsonl") else { return nil }
            return Int(name.dropFirst("spend-".count).dropLast(".jsonl".count))
        }.sorted()
    }

    static func path(of number: Int, in directory: String) -> String {
        let digits = String(number)
        return directory + "/spend-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".jsonl"
    }

    private static func open(number: Int, in directory: String) throws(Failure) -> Int32 {
        let path = path(of: number, in: directory)
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot open the spend journal segment \(path): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }
}
