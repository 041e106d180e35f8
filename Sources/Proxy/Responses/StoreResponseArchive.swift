import Store
import Telemetry

/// Kept responses in the gateway's store (SQLite or PostgreSQL, table `responses`), as JSON.
struct StoreResponseArchive: ResponseArchive {
    let store: any GatewayStore

    func save(_ response: StoredResponse, now: Double) async throws {
        try await store.saveResponse(
            StoredResponseRecord(
                id: response.id, owner: response.owner, body: String(decoding: Self.encode(response), as: UTF8.self),
                createdAt: now, expiresAt: response.expiresAt))
    }

    func load(id: String, now: Double) async throws -> StoredResponse? {
        try await store.storedResponse(id: id, now: now).flatMap(Self.decode)
    }

    func delete(id: String, owner: String?) async throws -> Bool {
        try await store.deleteResponse(id: id, owner: owner)
    }

    func deleteExpired(now: Double) async throws -> Int {
        try await store.deleteExpiredResponses(now: now)
    }

    static func encode(_ response: StoredResponse) -> [UInt8] {
        JSONValue.object([
            "response": .object(response.response), "history": .array(response.history), "input": .array(response.input),
            "previous_id": response.previousID.map(JSONValue.string) ?? .null,
            "deployment_id": .string(response.deploymentID), "native": .bool(response.native),
        ]).encoded()
    }

    static func decode(_ record: StoredResponseRecord) -> StoredResponse? {
        guard let body = try? JSONParser.parse(Array(record.body.utf8)), let response = body["response"]?.objectValue else {
            return nil
        }
        return StoredResponse(
            id: record.id, owner: record.owner, response: response, history: body["history"]?.arrayValue ?? [],
            input: body["input"]?.arrayValue ?? [], previousID: body["previous_id"]?.stringValue,
            deploymentID: body["deployment_id"]?.stringValue ?? "", native: body["native"]?.boolValue ?? false,
            expiresAt: record.expiresAt, bytes: record.body.utf8.count)
    }
}
