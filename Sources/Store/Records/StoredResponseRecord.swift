/// A Responses API answer the gateway keeps: who may read it, the JSON the gateway needs back, and when it expires.
/// Kept in the store so that `previous_response_id`, `GET` and `DELETE /v1/responses/{id}` work
/// across restarts and replicas.
public struct StoredResponseRecord: Sendable, Equatable {
    /// The response id (`resp_…`).
    public var id: String
    /// Who may read or delete it: `master`, `open`, or `key:<digest>` (never a key in the clear).
    public var owner: String
    /// JSON text, opaque to the store.
    public var body: String
    /// Unix seconds.
    public var createdAt: Double
    /// Unix seconds; from then on the record reads as absent and `deleteExpiredResponses` removes it.
    public var expiresAt: Double

    public init(id: String, owner: String, body: String, createdAt: Double, expiresAt: Double) {
        self.id = id
        self.owner = owner
        self.body = body
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
