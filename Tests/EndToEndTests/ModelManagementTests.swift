import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

@testable import Proxy

/// `/model/new`, `/model/update`, `PATCH /model/{id}/update` and `/model/delete` as LiteLLM 1.108.7
/// serves them with `store_model_in_db` (proxy/management_endpoints/model_management_endpoints.py;
/// request shape: proxy/_types.py `Deployment` and `updateDeployment`): a model added at run time
/// is served at once, kept in the store across restarts, and reaches every replica; its literal
/// key is sealed at rest and never shown.
@Suite(.timeLimit(.minutes(3))) struct ModelManagementTests {
    static let literalKey = "sk-runtime-literal-7Qx9"

    static let config = """
        general_settings: {master_key: \(Harness.master)}
        model_list:
          - {model_name: configured, litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}", api_key: k}, model_info: {id: cfg-1}}
        """

    static func chat(_ h: Harness, _ model: String, key: String = Harness.master) async throws -> GatewayClient.Reply {
        try await h.send(
            "/v1/chat/completions", json: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#, key: key)
    }

    static func listed(_ h: Harness, key: String = Harness.master) async throws -> [String] {
        try await h.send("/v1/models", method: .GET, key: key).json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            ?? []
    }

    @Test func aModelIsAddedCalledUpdatedAndDeleted() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let upstream = "http://127.0.0.1:\(h.upstreamPort)/v1"
            let created = try await h.send(
                "/model/new",
                json: """
                    {"model_name":"runtime","litellm_params":{"model":"openai/gpt-4o-mini","api_base":"\(upstream)",
                     "api_key":"\(Self.literalKey)","rpm":50},"model_info":{"id":"rt-1","mode":"chat"}}
                    """)
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json?["model_id"] == "rt-1" && created.json?["model_name"] == "runtime")
            #expect(created.json?["litellm_params"]?["rpm"]?.intValue == 50)
            #expect(created.json?["model_info"]?["id"] == "rt-1")
            #expect(!created.text.contains(Self.literalKey))

            // Served at once, with its own key sent upstream.
            let answer = try await Self.chat(h, "runtime")
            #expect(answer.status == 200, "\(answer.text)")
            #expect(h.upstream.last?.headers.first(name: "authorization") == "Bearer \(Self.literalKey)")
            #expect(answer.headers.first(name: "x-spanway-deployment") == "rt-1")
            #expect(try await Self.listed(h) == ["configured", "runtime"])
            let info = try await h.send("/model/info", method: .GET)
            let entry = info.json?["data"]?.arrayValue?.first { $0["model_info"]?["id"] == "rt-1" }
            #expect(entry?["model_name"] == "runtime" && entry?["model_info"]?["db_model"] == .bool(true))
            #expect(!info.text.contains(Self.literalKey))

            // Sealed at rest: the row holds no trace of the key.
            let rows = try await h.database.storedModels()
            #expect(rows.map(\.modelID) == ["rt-1"])
            #expect(
                rows.first.map { !$0.litellmParams.contains(Self.literalKey) && $0.litellmParams.contains("spanway-sealed:v1:") }
                    == true)

            // `/model/update` renames it and merges its parameters (the key is kept).
            let updated = try await h.send(
                "/model/update",
                json: #"{"model_name":"renamed","model_info":{"id":"rt-1"},"litellm_params":{"rpm":7,"api_key":null}}"#)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(updated.json?["model_name"] == "renamed" && updated.json?["litellm_params"]?["rpm"]?.intValue == 7)
            #expect(try await Self.chat(h, "runtime").status == 404)
            #expect(try await Self.chat(h, "renamed").status == 200)
            #expect(h.upstream.last?.headers.first(name: "authorization") == "Bearer \(Self.literalKey)")

            // LiteLLM's PATCH merges `model_info` too.
            let patched = try await h.send(
                "/model/rt-1/update", json: #"{"model_info":{"access_groups":["beta"]}}"#, method: .PATCH)
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json?["model_info"]?["access_groups"] == .array(["beta"]))

            let deleted = try await h.send("/model/delete", json: #"{"id":"rt-1"}"#)
            #expect(deleted.status == 200 && deleted.json?["message"] == "Model: rt-1 deleted successfully", "\(deleted.text)")
            #expect(try await Self.chat(h, "renamed").status == 404)
            #expect(try await Self.listed(h) == ["configured"])
            #expect(try await h.database.storedModels().isEmpty)
            let again = try await h.send("/model/delete", json: #"{"id":"rt-1"}"#)
            #expect(again.status == 400 && again.json?["error"]?["message"] == "Model with id=rt-1 not found in db")
        }
    }

    @Test func aBadEntryIsRefusedAsTheConfigLoaderRefusesIt() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let unknown = try await h.send("/model/new", json: #"{"model_name":"x","litellm_params":{"model":"nope/x"}}"#)
            #expect(unknown.status == 400)
            #expect(unknown.json?["error"]?["param"] == "litellm_params.model")
            #expect(
                unknown.json?["error"]?["message"]?.stringValue?.hasPrefix("litellm_params.model: unknown provider 'nope'")
                    == true)
            let missing = try await h.send("/model/new", json: #"{"model_name":"x","litellm_params":{"api_base":"http://h"}}"#)
            #expect(missing.status == 400 && missing.json?["error"]?["param"] == "litellm_params.model", "\(missing.text)")
            let badBase = try await h.send(
                "/model/new", json: #"{"model_name":"x","litellm_params":{"model":"openai/x","api_base":"ftp://h"}}"#)
            #expect(badBase.status == 400 && badBase.json?["error"]?["param"] == "litellm_params.api_base", "\(badBase.text)")
            let unset = try await h.send(
                "/model/new",
                json: #"{"model_name":"x","litellm_params":{"model":"openai/x","api_key":"os.environ/SPANWAY_NOT_SET_42"}}"#)
            #expect(unset.status == 400 && unset.json?["error"]?["message"]?.stringValue?.contains("SPANWAY_NOT_SET_42") == true)
            let noName = try await h.send("/model/new", json: #"{"litellm_params":{"model":"openai/x"}}"#)
            #expect(noName.status == 400 && noName.json?["error"]?["param"] == "model_name")
            let stray = try await h.send(
                "/model/new", json: #"{"model_name":"x","litellm_params":{"model":"openai/x"},"colour":1}"#)
            #expect(stray.status == 400 && stray.json?["error"]?["param"] == "colour")
            let taken = try await h.send(
                "/model/new", json: #"{"model_name":"x","litellm_params":{"model":"openai/x"},"model_info":{"id":"cfg-1"}}"#)
            #expect(taken.status == 400, "\(taken.text)")
            let teamModel = try await h.send(
                "/model/new", json: #"{"model_name":"x","litellm_params":{"model":"openai/x"},"model_info":{"team_id":"t1"}}"#)
            #expect(teamModel.status == 400 && teamModel.json?["error"]?["param"] == "model_info.team_id", "\(teamModel.text)")
            #expect(try await h.database.storedModels().isEmpty)
            #expect(try await Self.listed(h) == ["configured"])
        }
    }

    @Test func configModelsCannotBeEditedOrDeletedAndKeysCannotManageModels() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let edit = try await h.send("/model/update", json: #"{"model_info":{"id":"cfg-1"},"litellm_params":{"rpm":1}}"#)
            #expect(edit.status == 400)
            #expect(
                edit.json?["error"]?["message"]
                    == "Can't edit model. Model in config. Store model in db via `/model/new`. to edit.")
            let delete = try await h.send("/model/delete", json: #"{"id":"cfg-1"}"#)
            #expect(delete.status == 400 && delete.json?["error"]?["message"] == "Model with id=cfg-1 not found in db")
            #expect(try await Self.chat(h, "configured").status == 200)

            let key = try await h.newKey()
            let refused = try await h.send(
                "/model/new", json: #"{"model_name":"x","litellm_params":{"model":"mock/gpt-4o-mini"}}"#, key: key)
            #expect(refused.status == 403)
            #expect(try await h.database.storedModels().isEmpty)
        }
    }

    @Test(arguments: ModelStoreBackend.all) func storedModelsOutliveARestart(_ backend: ModelStoreBackend) async throws {
        try await backend.withGatewayStore { wrap, shared in
            try await Harness.with(config: Self.config, otlp: false, wrapStore: wrap, sharing: shared) { h in
                let created = try await h.send(
                    "/model/new",
                    json:
                        #"{"model_name":"kept","litellm_params":{"model":"mock/gpt-4o-mini","api_key":"\#(Self.literalKey)"},"model_info":{"id":"kept-1"}}"#
                )
                #expect(created.status == 200, "\(created.text)")
            }
            // A new process on the same database serves it from its first request.
            try await Harness.with(config: Self.config, otlp: false, wrapStore: wrap, sharing: shared) { h async throws in
                #expect(try await Self.chat(h, "kept").status == 200)
                #expect(try await Self.listed(h) == ["configured", "kept"])
            }
            // One with another master key (and no salt key) cannot open its key: it skips the model.
            let other = Self.config.replacingOccurrences(of: Harness.master, with: "sk-another-master")
            try await Harness.with(config: other, otlp: false, wrapStore: wrap, sharing: shared) { h async throws in
                #expect(try await h.send("/v1/models", method: .GET, key: "sk-another-master").status == 200)
                #expect(try await Self.listed(h, key: "sk-another-master") == ["configured"])
            }
        }
    }

    @Test func theSaltKeyRatherThanTheMasterKeySealsCredentials() async throws {
        let shared = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("spanway-salt-\(UUID().uuidString).db").path)
        let salted = ["LITELLM_SALT_KEY": "salt-for-models-1"]
        try await Harness.with(config: Self.config, environment: salted, otlp: false, sharing: shared) { h in
            let created = try await h.send(
                "/model/new", json: #"{"model_name":"salted","litellm_params":{"model":"mock/gpt-4o-mini","api_key":"lit-1"}}"#)
            #expect(created.status == 200, "\(created.text)")
        }
        let other = Self.config.replacingOccurrences(of: Harness.master, with: "sk-rotated-master")
        try await Harness.with(config: other, environment: salted, otlp: false, sharing: shared) { h async throws in
            #expect(try await Self.listed(h, key: "sk-rotated-master") == ["configured", "salted"])
        }
        try await Harness.with(config: other, otlp: false, sharing: shared) { h async throws in
            #expect(try await Self.listed(h, key: "sk-rotated-master") == ["configured"])
        }
    }
}
