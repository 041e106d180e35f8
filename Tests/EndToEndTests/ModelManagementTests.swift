import Foundation
import GatewayTesting
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Store
import Synchronization
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

    /// LiteLLM's Prometheus series label a model added at run time as they label a configured one.
    @Test func aModelAddedAtRunTimeHasLiteLLMsDeploymentLabels() async throws {
        let config = Self.config + "\nspanway_settings: {prometheus_names: [spanway, litellm]}\n"
        try await Harness.with(config: config, otlp: false) { h in
            let upstream = "http://127.0.0.1:\(h.upstreamPort)/v1"
            let created = try await h.send(
                "/model/new",
                json:
                    #"{"model_name":"runtime","litellm_params":{"model":"openai/gpt-4o-mini","api_base":"\#(upstream)","api_key":"k"},"model_info":{"id":"rt-1"}}"#
            )
            #expect(created.status == 200, "\(created.text)")
            #expect(try await Self.chat(h, "runtime").status == 200)
            let lines = try await h.send("/metrics", method: .GET).text.split(separator: "\n")
            func series(_ name: String) -> [Substring] {
                lines.filter { $0.hasPrefix(name + "{") && $0.contains(#"model_id="rt-1""#) }
            }
            let calls = series("litellm_deployment_total_requests_total")
            #expect(calls.count == 1, "\(calls)")
            // LiteLLM's `api_base` label is the scheme, host and port.
            let base = "http://127.0.0.1:\(h.upstreamPort)"
            #expect(calls.allSatisfy { $0.contains(#"api_provider="openai""#) && $0.contains(#"api_base="\#(base)""#) })
            let state = series("litellm_deployment_state")
            #expect(state.count == 1 && state.first?.hasSuffix(" 0.0") == true, "\(state)")
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

    /// LiteLLM's credential settings that Spanway's config loader ignores (Entra ID, AWS roles and
    /// profiles): refused by name, never stored nor shown back. Older rows holding one lose it on
    /// their next update.
    @Test func credentialsTheConfigLoaderIgnoresAreRefusedAndNeverStored() async throws {
        let secret = "entra-secret-value-5Kd1"
        try await Harness.with(config: Self.config, otlp: false) { h in
            for field in ["client_secret", "azure_ad_token", "azure_password", "aws_web_identity_token"] {
                let refused = try await h.send(
                    "/model/new",
                    json: #"{"model_name":"x","litellm_params":{"model":"openai/x","api_key":"k","\#(field)":"\#(secret)"}}"#)
                #expect(refused.status == 400, "\(refused.text)")
                #expect(refused.json?["error"]?["param"] == .string("litellm_params.\(field)"), "\(refused.text)")
                #expect(!refused.text.contains(secret))
            }
            #expect(try await h.database.storedModels().isEmpty)

            let created = try await h.send(
                "/model/new",
                json: #"{"model_name":"x","litellm_params":{"model":"mock/gpt-4o-mini"},"model_info":{"id":"rt-2"}}"#)
            #expect(created.status == 200, "\(created.text)")
            let updated = try await h.send(
                "/model/update", json: #"{"model_info":{"id":"rt-2"},"litellm_params":{"client_secret":"\#(secret)"}}"#)
            #expect(
                updated.status == 400 && updated.json?["error"]?["param"] == "litellm_params.client_secret", "\(updated.text)")
            let patched = try await h.send(
                "/model/rt-2/update", json: #"{"litellm_params":{"azure_ad_token":"\#(secret)"}}"#, method: .PATCH)
            #expect(
                patched.status == 400 && patched.json?["error"]?["param"] == "litellm_params.azure_ad_token", "\(patched.text)")
            #expect(try await h.database.storedModels().allSatisfy { !$0.litellmParams.contains(secret) })

            // A row written before these were refused: not shown, and dropped by its next update.
            try await h.database.saveModel(
                StoredModel(
                    modelID: "old-1", modelName: "old",
                    litellmParams: #"{"model":"mock/gpt-4o-mini","client_secret":"\#(secret)"}"#, modelInfo: #"{"id":"old-1"}"#,
                    createdAt: 1, updatedAt: 1))
            await h.gateway.modelRegistry.reload()
            let touched = try await h.send("/model/update", json: #"{"model_info":{"id":"old-1"},"litellm_params":{"rpm":3}}"#)
            #expect(touched.status == 200, "\(touched.text)")
            #expect(!touched.text.contains(secret) && touched.json?["litellm_params"]?["rpm"]?.intValue == 3)
            #expect(try await h.database.storedModels().allSatisfy { !$0.litellmParams.contains(secret) })
        }
    }

    /// `api_base` may carry credentials (user info, a `?key=` query): answers show it as
    /// `/model/info` does, scheme, host, port and path only.
    @Test func anAPIBaseIsShownWithoutItsCredentials() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let base = "http://127.0.0.1:\(h.upstreamPort)/v1"
            let withCredentials = "http://base-user:base-pass-9Wz@127.0.0.1:\(h.upstreamPort)/v1?key=query-secret-3Fv"
            let created = try await h.send(
                "/model/new",
                json:
                    #"{"model_name":"based","litellm_params":{"model":"openai/gpt-4o-mini","api_base":"\#(withCredentials)","api_key":"k"},"model_info":{"id":"rt-3"}}"#
            )
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json?["litellm_params"]?["api_base"] == .string(base))
            let updated = try await h.send("/model/update", json: #"{"model_info":{"id":"rt-3"},"litellm_params":{"rpm":5}}"#)
            #expect(updated.status == 200 && updated.json?["litellm_params"]?["api_base"] == .string(base), "\(updated.text)")
            let info = try await h.send("/model/info", method: .GET)
            let entry = info.json?["data"]?.arrayValue?.first { $0["model_info"]?["id"] == "rt-3" }
            #expect(entry?["litellm_params"]?["api_base"] == .string(base))
            for reply in [created, updated, info] {
                #expect(!reply.text.contains("base-pass-9Wz") && !reply.text.contains("query-secret-3Fv"))
                #expect(!reply.text.contains("base-user"))
            }
        }
    }

    /// `/model/new` never replaces a model: one created on another replica (not yet known here)
    /// or by a concurrent request keeps its row, and the later create is refused.
    @Test func aCreateNeverReplacesAModelAlreadyInTheStore() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            // Written by another replica; this one has not heard of it.
            let theirs = StoredModel(
                modelID: "dup-1", modelName: "theirs", litellmParams: #"{"model":"mock/gpt-4o-mini"}"#,
                modelInfo: #"{"id":"dup-1"}"#, createdAt: 1, updatedAt: 1)
            try await h.database.saveModel(theirs)
            #expect(h.gateway.modelRegistry.stored["dup-1"] == nil)
            let mine = try await h.send(
                "/model/new",
                json: #"{"model_name":"mine","litellm_params":{"model":"mock/gpt-4o-mini"},"model_info":{"id":"dup-1"}}"#)
            #expect(mine.status == 400, "\(mine.text)")
            #expect(mine.json?["error"]?["message"] == "Model with id=dup-1 already exists.")
            #expect(try await h.database.storedModels() == [theirs])

            // Two creates of one id at once: exactly one wins, and the row is the winner's.
            let body = #"{"model_name":"NAME","litellm_params":{"model":"mock/gpt-4o-mini"},"model_info":{"id":"dup-2"}}"#
            let firstBody = body.replacingOccurrences(of: "NAME", with: "first")
            let secondBody = body.replacingOccurrences(of: "NAME", with: "second")
            async let first = h.send("/model/new", json: firstBody)
            async let second = h.send("/model/new", json: secondBody)
            let replies = try await [first, second]
            #expect(replies.map(\.status).sorted() == [200, 400], "\(replies.map(\.text))")
            let winner = replies.first { $0.status == 200 }?.json?["model_name"]?.stringValue
            #expect(try await h.database.storedModels().first { $0.modelID == "dup-2" }?.modelName == winner)
        }
    }

    /// An upstream that repeats the stored model's key (in an error, in its answer) does not pass
    /// it on: neither the client's error, nor a span, nor captured content, nor a JSON log line
    /// shows it. The key is not shaped like one (`sk-…`), so only knowing it can scrub it.
    @Test func aStoredModelsKeyIsScrubbedAsAConfiguredOnesIs() async throws {
        let key = "runtime-echo-key-4Hq8Zt"
        let config = Self.config + "\nspanway_settings: {capture_content: true}\n"
        try await withTestServer(Self.echoingUpstream()) { port in
            try await Harness.with(config: config) { h in
                let created = try await h.send(
                    "/model/new",
                    json:
                        #"{"model_name":"echo","litellm_params":{"model":"openai/echo","api_base":"http://127.0.0.1:\#(port)/v1","api_key":"\#(key)"},"model_info":{"id":"echo-1"}}"#
                )
                #expect(created.status == 200, "\(created.text)")
                let answered = try await h.send(
                    "/v1/chat/completions", json: #"{"model":"echo","messages":[{"role":"user","content":"my key is \#(key)"}]}"#)
                #expect(answered.status == 200, "\(answered.text)")
                // Last: the failure cools the deployment down.
                let failed = try await h.send(
                    "/v1/chat/completions", json: #"{"model":"echo","messages":[{"role":"user","content":"fail"}]}"#)
                #expect(failed.status == 401, "\(failed.text)")
                #expect(failed.text.contains("Incorrect API key provided") && !failed.text.contains(key), "\(failed.text)")
                let exported = {
                    h.receiver.exports.withLock {
                        $0.map {
                            (try? $0.request.serializedBytes()).map { String(decoding: $0 as [UInt8], as: UTF8.self) } ?? ""
                        }
                    }.joined()
                }
                try await h.eventually("both requests' spans, the answer's content captured") {
                    let text = exported()
                    return text.contains("Incorrect API key provided") && text.contains("You called with")
                }
                let otlp = exported()
                #expect(otlp.contains("Incorrect API key provided") && otlp.contains("my key is"))
                #expect(!otlp.contains(key), "a stored model's key reached a span")

                // The JSON log handlers learn it too.
                let learned = LearnedSecrets()
                h.gateway.contentSecrets.observe { learned.replace(with: $0) }
                let lines = Mutex<[UInt8]>([])
                let logger = Logger(label: "t") { label in
                    JSONLogHandler(label: label, learned: learned) { bytes in lines.withLock { $0.append(contentsOf: bytes) } }
                }
                logger.warning("upstream said \(key)")
                let logged = String(decoding: lines.withLock { $0 }, as: UTF8.self)
                #expect(logged.contains("upstream said [redacted]") && !logged.contains(key), "\(logged)")
            }
        }
    }

    /// Answers `/v1/chat/completions` with the bearer key it was sent: in a 401 for "fail",
    /// else in the answer's content.
    static func echoingUpstream() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let sent = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
            let prompt = (try? JSONParser.parse(body.readableBytesView))?["messages"]?.arrayValue?.first?["content"]?.stringValue
            let (status, answer): (HTTPResponse.Status, String) =
                prompt == "fail"
                ? (
                    .unauthorized,
                    #"{"error":{"message":"Incorrect API key provided: \#(sent).","type":"invalid_request_error","code":"invalid_api_key"}}"#
                )
                : (
                    .ok,
                    #"{"id":"chatcmpl-echo","object":"chat.completion","created":1,"model":"echo","choices":[{"index":0,"#
                        + #""finish_reason":"stop","message":{"role":"assistant","content":"You called with \#(sent)."}}],"#
                        + #""usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#
                )
            return Response(
                status: status, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer)))
        }
        return router
    }
}
