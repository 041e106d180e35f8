import Synchronization
import Testing

@testable import Store

/// Models added through the admin API: kept by both stores alike, and every write through the
/// cache is announced as `StoreChange.models` (which replicas publish to one another).
@Suite(.timeLimit(.minutes(3))) struct StoredModelStoreTests {
    static func model(_ id: String, name: String = "runtime", at seconds: Double) -> StoredModel {
        StoredModel(
            modelID: id, modelName: name, litellmParams: #"{"model":"openai/gpt-4o-mini"}"#, modelInfo: #"{"id":"\#(id)"}"#,
            createdAt: seconds, updatedAt: seconds)
    }

    @Test(arguments: StoreBackend.all) func modelsAreSavedReplacedListedOldestFirstAndDeleted(
        _ backend: StoreBackend
    ) async throws {
        try await backend.withStore { test in
            let store = test.store
            #expect(try await store.storedModels().isEmpty)
            let second = Self.model("m2", at: 200)
            let first = Self.model("m1", at: 100)
            try await store.saveModel(second)
            try await store.saveModel(first)
            #expect(try await store.storedModels() == [first, second])

            // Saving an id again replaces its row but keeps when it was created.
            var renamed = Self.model("m2", name: "renamed", at: 200)
            renamed.litellmParams = #"{"model":"openai/gpt-4o"}"#
            renamed.updatedAt = 300
            try await store.saveModel(renamed)
            #expect(try await store.storedModels() == [first, renamed])

            #expect(try await store.deleteModel(id: "m1"))
            #expect(try await !store.deleteModel(id: "m1"))
            #expect(try await store.storedModels() == [renamed])
        }
    }

    /// `/model/new`'s write: one statement that inserts, or reports that the id was taken and
    /// leaves that row as it was.
    @Test(arguments: StoreBackend.all) func insertingNeverReplacesAModel(_ backend: StoreBackend) async throws {
        try await backend.withStore { test async throws in
            let store = test.store
            let first = Self.model("m1", at: 100)
            #expect(try await store.insertModel(first))
            #expect(try await !store.insertModel(Self.model("m1", name: "other", at: 200)))
            #expect(try await store.storedModels() == [first])
            let second = Self.model("m2", at: 50)
            #expect(try await store.insertModel(second))
            #expect(try await store.storedModels() == [second, first])
        }
    }

    @Test func writesThroughTheCacheAreAnnouncedAndReported() async throws {
        let cached = CachedStore(try SQLiteStore(path: temporaryDatabasePath()))
        let published = Mutex<[StoreChange]>([])
        let observed = Mutex<[StoreChange]>([])
        cached.observeWrites { change in published.withLock { $0.append(change) } }
        cached.observeInvalidations { change in observed.withLock { $0.append(change) } }
        try await cached.saveModel(Self.model("m1", at: 1))
        #expect(try await cached.deleteModel(id: "m1"))
        #expect(published.withLock { $0 } == [.models, .models])
        // An insert is announced only when it wrote.
        #expect(try await cached.insertModel(Self.model("m2", at: 2)))
        #expect(try await !cached.insertModel(Self.model("m2", at: 3)))
        #expect(published.withLock { $0 } == [.models, .models, .models])
        // Another replica's notice reaches the gateway's model list; record changes do not.
        cached.invalidate(.record(.key, id: "k"))
        cached.invalidate(.models)
        cached.invalidate(.all)
        #expect(observed.withLock { $0 } == [.models, .models, .models, .models, .all])
    }
}
