import GRDB

extension SQLiteStore {
    public func saveResponse(_ record: StoredResponseRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO responses (id, owner, body, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, body = excluded.body,
                      created_at = excluded.created_at, expires_at = excluded.expires_at
                    """,
                arguments: [record.id, record.owner, record.body, record.createdAt, record.expiresAt])
        }
    }

    public func storedResponse(id: String, now: Double) async throws -> StoredResponseRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT id, owner, body, created_at, expires_at FROM responses WHERE id = ? AND expires_at > ?",
                arguments: [id, now]
            ).map { row in
                StoredResponseRecord(
                    id: row["id"], owner: row["owner"], body: row["body"], createdAt: row["created_at"],
                    expiresAt: row["expires_at"])
            }
        }
    }

    public func deleteResponse(id: String, owner: String?) async throws -> Bool {
        try await pool.write { db in
            if let owner {
                try db.execute(sql: "DELETE FROM responses WHERE id = ? AND owner = ?", arguments: [id, owner])
            } else {
                try db.execute(sql: "DELETE FROM responses WHERE id = ?", arguments: [id])
            }
            return db.changesCount > 0
        }
    }

    public func deleteExpiredResponses(now: Double) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM responses WHERE expires_at <= ?", arguments: [now])
            return db.changesCount
        }
    }
}
