import PostgresNIO
import Store

extension PostgresStore {
    public func storedModels() async throws -> [StoredModel] {
        let rows = try await client.query(
            """
            SELECT model_id, model_name, litellm_params, model_info, created_at, updated_at FROM models
            ORDER BY created_at, model_id COLLATE "C"
            """, logger: logger)
        var models: [StoredModel] = []
        for try await (id, name, params, info, created, updated) in rows.decode(
            (String, String, String, String, Double, Double).self)
        {
            models.append(
                StoredModel(
                    modelID: id, modelName: name, litellmParams: params, modelInfo: info, createdAt: created,
                    updatedAt: updated))
        }
        return models
    }

    public func saveModel(_ model: StoredModel) async throws {
        try await client.query(
            """
            INSERT INTO models (model_id, model_name, litellm_params, model_info, created_at, updated_at)
            VALUES (\(model.modelID), \(model.modelName), \(model.litellmParams), \(model.modelInfo), \(model.createdAt),
              \(model.updatedAt))
            ON CONFLICT (model_id) DO UPDATE SET model_name = excluded.model_name,
              litellm_params = excluded.litellm_params, model_info = excluded.model_info, updated_at = excluded.updated_at
            """, logger: logger)
    }

    public func insertModel(_ model: StoredModel) async throws -> Bool {
        let rows = try await client.query(
            """
            INSERT INTO models (model_id, model_name, litellm_params, model_info, created_at, updated_at)
            VALUES (\(model.modelID), \(model.modelName), \(model.litellmParams), \(model.modelInfo), \(model.createdAt),
              \(model.updatedAt))
            ON CONFLICT (model_id) DO NOTHING RETURNING 1
            """, logger: logger)
        return try await rows.collect().count > 0
    }

    public func deleteModel(id: String) async throws -> Bool {
        let rows = try await client.query("DELETE FROM models WHERE model_id = \(id) RETURNING 1", logger: logger)
        return try await rows.collect().count > 0
    }
}
