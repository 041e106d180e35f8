import GRDB

extension SQLiteStore {
    public func storedModels() async throws -> [StoredModel] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT model_id, model_name, litellm_params, model_info, created_at, updated_at FROM models
                    ORDER BY created_at, model_id
                    """
            ).map { row in
                StoredModel(
                    modelID: row["model_id"], modelName: row["model_name"], litellmParams: row["litellm_params"],
                    modelInfo: row["model_info"], createdAt: row["created_at"], updatedAt: row["updated_at"])
            }
        }
    }

    public func saveModel(_ model: StoredModel) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO models (model_id, model_name, litellm_params, model_info, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (model_id) DO UPDATE SET model_name = excluded.model_name,
                      litellm_params = excluded.litellm_params, model_info = excluded.model_info,
                      updated_at = excluded.updated_at
                    """,
                arguments: [
                    model.modelID, model.modelName, model.litellmParams, model.modelInfo, model.createdAt, model.updatedAt,
                ])
        }
    }

    public func insertModel(_ model: StoredModel) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO models (model_id, model_name, litellm_params, model_info, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (model_id) DO NOTHING
                    """,
                arguments: [
                    model.modelID, model.modelName, model.litellmParams, model.modelInfo, model.createdAt, model.updatedAt,
                ])
            return db.changesCount > 0
        }
    }

    public func deleteModel(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM models WHERE model_id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }
}
