/// Stores that keep no models (test doubles, wrappers): the gateway then serves its config's
/// models only, and the admin API refuses to add one.
extension GatewayStore {
    public func storedModels() async throws -> [StoredModel] { [] }

    public func saveModel(_ model: StoredModel) async throws { throw StoredModelsUnsupported() }

    public func insertModel(_ model: StoredModel) async throws -> Bool { throw StoredModelsUnsupported() }

    public func deleteModel(id: String) async throws -> Bool { false }
}
