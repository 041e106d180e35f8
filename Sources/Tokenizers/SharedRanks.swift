import Synchronization

/// Rank tables shared by every store in the process. A table is accepted only when its file's
/// SHA-256 is the one expected for the encoding, so every store would load the very same table:
/// sharing changes memory use (tens of MB per encoding) and load time, never a count. Loads of
/// one file run once, however many stores ask at the same time.
enum SharedRanks {
    typealias Loaded = Result<RankTable, RankFileSources.LoadError>
    private static let loads = Mutex<[String: Task<Loaded, Never>]>([:])

    static func table(_ file: RankFile, at path: String) async -> Loaded {
        let key = file.sha256 + ":" + path
        let task = loads.withLock { loads in
            if let task = loads[key] { return task }
            let task = Task.detached(priority: .utility) { () -> Loaded in
                do throws(RankFileSources.LoadError) {
                    return .success(try RankFileSources.load(file, at: path))
                } catch {
                    return .failure(error)
                }
            }
            loads[key] = task
            return task
        }
        let loaded = await task.value
        // A failed load may succeed later (the file replaced): it is not kept.
        if case .failure = loaded { _ = loads.withLock { $0.removeValue(forKey: key) } }
        return loaded
    }
}
