import PostgresNIO
import Store

extension PostgresStore {
    public func saveResponse(_ record: StoredResponseRecord) async throws {
        try await client.query(
            """
            INSERT INTO responses (id, owner, body, created_at, expires_at)
            VALUES (\(record.id), \(record.owner), \(record.body), \(record.createdAt), \(record.expiresAt))
            ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, body = excluded.body,
              created_at = excluded.created_at, expires_at = excluded.expires_at
            """, logger: logger)
    }

    public func storedResponse(id: String, now: Double) async throws -> StoredResponseRecord? {
        let rows = try await client.query(
            """
            SELECT id, owner, body, created_at, expires_at FROM responses WHERE id = \(id) AND expires_at > \(now)
            """, logger: logger)
        // The id is the primary key: at most one row, read to the end.
        var found: StoredResponseRecord?
        for try await (id, owner, body, created, expires) in rows.decode((String, String, String, Double, Double).self) {
            found = StoredResponseRecord(id: id, owner: owner, body: body, createdAt: created, expiresAt: expires)
        }
        return found
    }

    public func deleteResponse(id: String, owner: String?) async throws -> Bool {
        let rows: PostgresRowSequence
        if let owner {
            rows = try await client.query(
                "DELETE FROM responses WHERE id = \(id) AND owner = \(owner) RETURNING 1", logger: logger)
        } else {
            rows = try await client.query("DELETE FROM responses WHERE id = \(id) RETURNING 1", logger: logger)
        }
        return try await rows.collect().count > 0
    }

    public func deleteExpiredResponses(now: Double) async throws -> Int {
        let rows = try await client.query("DELETE FROM responses WHERE expires_at <= \(now) RETURNING 1", logger: logger)
        return try await rows.collect().count
    }
}
