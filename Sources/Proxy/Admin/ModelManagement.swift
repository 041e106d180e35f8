import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/model/new`, `/model/update`, `PATCH /model/{model_id}/update` and `/model/delete`, as LiteLLM
/// 1.108.7 serves them with `store_model_in_db` (proxy/management_endpoints/model_management_endpoints.py):
/// models added at run time, kept in the store, served at once here and, through the store's
/// change notices, on every replica. Master key only. An entry is checked exactly as a config
/// `model_list` entry is; config models can be neither edited nor deleted. Literal credentials
/// are stored sealed (`ModelSecrets`) and never shown back.
public struct ModelManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    let registry: ModelRegistry
    let clock: any GatewayClock

    /// How LiteLLM names the master key's changes (`LITELLM_PROXY_ADMIN_NAME`).
    static let adminName = "default_user_id"

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["model_name", "litellm_params", "model_info"])
            var info = try Self.object(object, "model_info") ?? JSONObject()
            let id: String
            if let given = info["id"], !given.isNull {
                guard let text = given.stringValue, !text.isEmpty else {
                    throw .invalidRequest("'model_info.id' must be a non-empty string.", param: "model_info.id")
                }
                id = text
            } else {
                // LiteLLM gives a model without an id a random one.
                id = UUID().uuidString.lowercased()
            }
            info["id"] = .string(id)
            try Self.refuseTeamModel(info)
            guard let params = try Self.object(object, "litellm_params") else {
                throw .invalidRequest("'litellm_params' is required.", param: "litellm_params")
            }
            let name = object["model_name"]?.stringValue ?? ""
            guard !name.isEmpty else {
                throw .invalidRequest("'model_name' is required and must be a string.", param: "model_name")
            }
            try Self.refuseUnsupportedCredentials(params)
            _ = try checked(name: name, params: params, info: info)
            guard !registry.configured.contains(where: { $0.config.id == id }), registry.stored[id] == nil else {
                throw Self.exists(id)
            }
            let now = clock.nowSeconds()
            let sealed = try seal(params)
            let model = StoredModel(
                modelID: id, modelName: name, litellmParams: Self.text(sealed), modelInfo: Self.text(info), createdAt: now,
                updatedAt: now)
            // Insert-only: a model another replica (or a concurrent request) created under this
            // id since the registry last read the store is never replaced.
            guard try await AdminInput.store({ try await store.insertModel(model) }) else { throw Self.exists(id) }
            registry.applied(model, id: model.modelID)
            return .object(Self.row(model))
        }
    }

    /// `POST /model/update`: `litellm_params` merged over the stored ones (a null keeps the
    /// stored value), `model_name` renames; `model_info` other than `id` is kept, as LiteLLM keeps it.
    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["model_name", "litellm_params", "model_info"])
            guard let id = try Self.object(object, "model_info")?["id"]?.stringValue, !id.isEmpty else {
                throw .invalidRequest("'model_info.id' is required.", param: "model_info.id")
            }
            return .object(try await change(id: id, object, mergingInfo: false))
        }
    }

    /// `PATCH /model/{model_id}/update`: as `/model/update`, and `model_info` merged too.
    public func patch(id: String, _ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["model_name", "litellm_params", "model_info"])
            return .object(try await change(id: id, object, mergingInfo: true))
        }
    }

    /// `POST /model/delete` with `{"id": …}`.
    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["id"])
            let id = try AdminInput.requiredString(object, "id")
            // LiteLLM looks in its database only, so a config model is "not found" there too.
            guard registry.stored[id] != nil, try await AdminInput.store({ try await store.deleteModel(id: id) }) else {
                throw Self.notInStore(id)
            }
            registry.applied(nil, id: id)
            return .object(["message": .string("Model: \(id) deleted successfully")])
        }
    }

    private func change(id: String, _ object: JSONObject, mergingInfo: Bool) async throws(GatewayError) -> JSONObject {
        guard var model = registry.stored[id] else {
            if registry.configured.contains(where: { $0.config.id == id }) {
                // LiteLLM's words.
                throw .invalidRequest(
                    "Can't edit model. Model in config. Store model in db via `/model/new`. to edit.", param: "model_info.id",
                    code: "model_in_config")
            }
            throw Self.notInStore(id)
        }
        let given = try Self.object(object, "litellm_params") ?? JSONObject()
        try Self.refuseUnsupportedCredentials(given)
        var params = ModelRegistry.object(model.litellmParams) ?? JSONObject()
        // Kept by a version that accepted them; never used, so dropped rather than kept unsealed.
        for name in ConfigLoader.unsupportedCredentialKeys { params[name] = nil }
        for (name, value) in given.members where !value.isNull {
            params[name] = value
        }
        var info = ModelRegistry.object(model.modelInfo) ?? JSONObject()
        if mergingInfo {
            for (name, value) in (try Self.object(object, "model_info") ?? JSONObject()).members where !value.isNull {
                info[name] = value
            }
        }
        info["id"] = .string(id)
        try Self.refuseTeamModel(info)
        if let name = object["model_name"], !name.isNull {
            guard let text = name.stringValue, !text.isEmpty else {
                throw .invalidRequest("'model_name' must be a non-empty string.", param: "model_name")
            }
            model.modelName = text
        }
        // Sealed values are strings to the check, as their plain text would be.
        _ = try checked(name: model.modelName, params: params, info: info)
        let sealed = try seal(params)
        model.litellmParams = Self.text(sealed)
        model.modelInfo = Self.text(info)
        model.updatedAt = clock.nowSeconds()
        try await save(model)
        return Self.row(model)
    }

    /// The entry as a config entry is checked: a 400 naming the field of its first error.
    private func checked(name: String, params: JSONObject, info: JSONObject) throws(GatewayError) -> DeploymentConfig {
        guard let factory = registry.factory else {
            throw .invalidRequest("This gateway cannot add models at run time.")
        }
        let entry: JSONObject = ["model_name": .string(name), "litellm_params": .object(params), "model_info": .object(info)]
        switch factory.deployment(fromJSON: entry) {
        case .success(let config): return config
        case .failure(let issue):
            throw .invalidRequest(
                issue.path.isEmpty ? issue.message : "\(issue.path): \(issue.message)",
                param: issue.path.isEmpty ? nil : issue.path, code: "invalid_model")
        }
    }

    private func seal(_ params: JSONObject) throws(GatewayError) -> JSONObject {
        if let secrets = registry.secrets { return secrets.sealing(params) }
        let literal = params.members.contains { member in
            ModelSecrets.sealedParams.contains(member.key)
                && !(member.value.stringValue.map(ModelSecrets.isReference) ?? true)
        }
        guard !literal else {
            throw .invalidRequest(
                "Without a master key or SPANWAY_SALT_KEY credentials cannot be stored; use os.environ/NAME.",
                param: "litellm_params.api_key")
        }
        return params
    }

    private func save(_ model: StoredModel) async throws(GatewayError) {
        try await AdminInput.store { try await store.saveModel(model) }
        registry.applied(model, id: model.modelID)
    }

    static func text(_ object: JSONObject) -> String { String(decoding: JSONValue.object(object).encoded(), as: UTF8.self) }

    /// LiteLLM's team models are visible to one team only; served here they would reach every
    /// caller, so they are refused rather than widened.
    static func refuseTeamModel(_ info: JSONObject) throws(GatewayError) {
        guard let team = info["team_id"], !team.isNull else { return }
        throw .invalidRequest(
            "Team models (model_info.team_id) are not supported; give the team's keys access through their models list.",
            param: "model_info.team_id")
    }

    /// The credentials the config loader ignores (Entra ID, AWS roles and profiles, which LiteLLM
    /// turns into tokens itself) are refused here: a config file shared with LiteLLM must still
    /// load, so there they are a warning, but an API caller gets its answer at once, and a
    /// secret Spanway never uses is better not kept at all, sealed or not.
    static func refuseUnsupportedCredentials(_ params: JSONObject) throws(GatewayError) {
        let given = params.members.filter { !$0.value.isNull }.map(\.key).sorted()
        guard let name = given.first(where: ConfigLoader.unsupportedCredentialKeys.contains) else { return }
        throw .invalidRequest(
            "litellm_params.\(name): a credential setting Spanway does not support (use api_key); it is not stored.",
            param: "litellm_params.\(name)", code: "invalid_model")
    }

    static func exists(_ id: String) -> GatewayError {
        .invalidRequest("Model with id=\(id) already exists.", param: "model_info.id", code: "model_exists")
    }

    static func notInStore(_ id: String) -> GatewayError {
        .invalidRequest("Model with id=\(id) not found in db", param: "id", code: "model_not_found")
    }

    static func object(_ object: JSONObject, _ field: String) throws(GatewayError) -> JSONObject? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let members = value.objectValue else {
            throw .invalidRequest("'\(field)' must be an object, found \(value.typeName).", param: field)
        }
        return members
    }

    /// LiteLLM's `LiteLLM_ProxyModelTable` row, credentials left out (`api_base` without its user,
    /// password or query, as `/model/info` shows it).
    static func row(_ model: StoredModel) -> JSONObject {
        let params = ModelRegistry.object(model.litellmParams) ?? JSONObject()
        return [
            "model_id": .string(model.modelID), "model_name": .string(model.modelName),
            "litellm_params": .object(ModelSecrets.withoutSecrets(params)),
            "model_info": .object(ModelRegistry.object(model.modelInfo) ?? JSONObject()),
            "created_at": .string(Self.timestamp(model.createdAt)), "created_by": .string(adminName),
            "updated_at": .string(Self.timestamp(model.updatedAt)), "updated_by": .string(adminName),
        ]
    }

    static func timestamp(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }
}
