/// Stores that keep no responses (test doubles, wrappers): nothing is saved, nothing is found,
/// nothing is deleted.
extension GatewayStore {
    public func saveResponse(_ record: StoredResponseRecord) async throws {}

    public func storedResponse(id: String, now: Double) async throws -> StoredResponseRecord? { nil }

    public func deleteResponse(id: String, owner: String?) async throws -> Bool { false }

    public func deleteExpiredResponses(now: Double) async throws -> Int { 0 }
}
