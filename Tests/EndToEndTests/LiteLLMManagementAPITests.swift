import Foundation
import Store
import Telemetry
import Testing

@testable import Proxy

/// `/key/*`, `/user/*`, `/team/*` and `/organization/*` driven as LiteLLM's scripts drive them.
/// Expected field names, defaults, errors and answer shapes are LiteLLM 1.108.7's: the pydantic
/// types in `litellm/types/proxy/management_endpoints/{key,user}_requests.py` and
/// `litellm/proxy/_types.py` (`GenerateKeyResponse`, `NewUserResponse`, `UserInfoResponse`,
/// `NewTeamRequest`, `UpdateTeamRequest`, `TeamInfoResponseObject`, `NewOrganizationRequest`,
/// `LiteLLM_OrganizationTableWithMembers`) and the handlers in
/// `litellm/proxy/management_endpoints/*.py`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LiteLLMManagementAPITests {
    static let chat = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#
    /// SHA-256 of `sk-1234567890123456`, computed outside Spanway (Python's hashlib).
    static let customKey = "sk-1234567890123456"
    static let customToken = "20ddf7e0039becc478d66565dfacbf93e014bf1008e99c46527ceb41c65d7a37"

    static func chat(_ model: String) -> String {
        #"{"model":"\#(model)","messages":[{"role":"user","content":"x"}]}"#
    }

    // MARK: - /user/*

    @Test func userNewMakesTheUserAndAKeyFromTheKeyFields() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t1","team_alias":"One"}"#).status == 200)
            let reply = try await h.send(
                "/user/new",
                json: """
                    {"user_id":"ada","user_email":"Ada@Example.com","user_alias":"Ada","user_role":"internal_user_viewer",
                     "max_budget":10,"budget_duration":"30d","spend":0.5,"models":["local"],"key_alias":"ada-key",
                     "duration":"1h","aliases":{"fast":"local"},"metadata":{"dept":"r"},"team_id":"t1","tpm_limit":100,
                     "config":{"a":1},"send_invite_email":false}
                    """)
            #expect(reply.status == 200)
            let created = try #require(reply.json)
            let raw = try #require(created["key"]?.stringValue)
            // NewUserResponse: the key's GenerateKeyResponse fields without token/token_id, and the user's.
            #expect(raw.hasPrefix("sk-") && created["key_name"]?.stringValue == "sk-...\(raw.suffix(4))")
            #expect(created["token"] == nil && created["token_id"] == nil)
            #expect(created["user_id"] == "ada" && created["user_email"] == "Ada@Example.com" && created["user_alias"] == "Ada")
            #expect(created["user_role"] == "internal_user_viewer" && created["teams"] == .array(["t1"]))
            #expect(created["max_budget"]?.doubleValue == 10 && created["budget_duration"] == "30d")
            #expect(created["spend"]?.doubleValue == 0.5 && created["key_alias"] == "ada-key")
            #expect(created["expires"]?.stringValue != nil && created["config"] == .object(["a": .int(1)]))

            // The key has the key fields; the user's own budget stays on the user, as in LiteLLM.
            let info = try #require(try await h.send("/key/info?key=\(raw)").json?["info"])
            #expect(info["max_budget"] == .null && info["budget_duration"] == .null && info["spend"]?.doubleValue == 0.5)
            #expect(info["user_id"] == "ada" && info["team_id"] == "t1" && info["tpm_limit"]?.intValue == 100)
            #expect(info["aliases"] == .object(["fast": "local"]) && info["metadata"] == .object(["dept": "r"]))
            let expires = try #require(info["expires"]?.stringValue.flatMap { ISO8601DateFormatter().date(from: $0) })
            #expect(abs(expires.timeIntervalSinceNow - 3600) < 120)
            // Its alias and model list take effect.
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("fast"), key: raw).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("gpt-4o-mini"), key: raw).status == 403)

            // team_id made the user a member.
            let team = try #require(try await h.send("/team/info?team_id=t1").json)
            #expect(team["team_info"]?["members_with_roles"] == .array([.object(["user_id": "ada", "role": "user"])]))
            // UserInfoResponse: keys and teams as objects.
            let user = try #require(try await h.send("/user/info?user_id=ada").json)
            #expect(user["user_id"] == "ada" && user["user_info"]?["teams"] == .array(["t1"]))
            #expect(user["keys"]?.arrayValue?.map { $0["key_alias"] } == ["ada-key"])
            #expect(user["keys"]?.arrayValue?.first?["team_alias"] == "One")
            #expect(user["teams"]?.arrayValue?.map { $0["team_id"] } == ["t1"])

            // Duplicates: 409, LiteLLM's words; the email compared case-blind.
            let sameID = try await h.send("/user/new", json: #"{"user_id":"ada"}"#)
            #expect(sameID.status == 409 && sameID.json?["error"]?["message"] == "User with id ada already exists")
            let sameEmail = try await h.send("/user/new", json: #"{"user_email":"ada@example.COM"}"#)
            #expect(
                sameEmail.status == 409
                    && sameEmail.json?["error"]?["message"] == "User with email Ada@Example.com already exists")

            // auto_create_key false: no key (`key` is empty, as LiteLLM answers).
            let bob = try await h.send("/user/new", json: #"{"user_id":"bob","auto_create_key":false}"#)
            #expect(bob.status == 200 && bob.json?["key"] == "")
            #expect(try await h.send("/user/info?user_id=bob").json?["keys"] == .array([]))
            // `teams` as objects with a role.
            let cy = try await h.send(
                "/user/new", json: #"{"user_id":"cy","auto_create_key":false,"teams":[{"team_id":"t1","user_role":"admin"}]}"#)
            #expect(cy.json?["teams"] == .array(["t1"]))
            let members = try await h.send("/team/info?team_id=t1").json?["team_info"]?["members_with_roles"]?.arrayValue
            #expect(members?.contains(.object(["user_id": "cy", "role": "admin"])) == true)

            // What LiteLLM refuses, Spanway refuses; a bad key field stores nothing.
            let password = try await h.send("/user/new", json: #"{"user_id":"dee","password":"x"}"#)
            #expect(
                password.status == 400
                    && password.json?["error"]?["message"]?.stringValue?.hasPrefix("password cannot be set via /user/new") == true
            )
            #expect(try await h.send("/user/new", json: #"{"user_role":"org_admin"}"#).json?["error"]?["param"] == "user_role")
            #expect(try await h.send("/user/new", json: #"{"nickname":"x"}"#).json?["error"]?["param"] == "nickname")
            #expect(
                try await h.send("/user/new", json: #"{"user_id":"eve","team_id":"nope"}"#).json?["error"]?["param"] == "team_id")
            #expect(
                try await h.send("/user/new", json: #"{"user_id":"eve","duration":"soon"}"#).json?["error"]?["param"]
                    == "duration")
            #expect(try await h.send("/user/new", json: #"{"user_id":"eve","key_alias":"ada-key"}"#).status == 400)
            #expect(try await h.send("/user/info?user_id=eve").status == 404)
        }
    }

    @Test func userNewLeavesNoUserWhenItsKeyCannotBeStored() async throws {
        try await BreakableStore.withGateway { h, store in
            store.refusesKeys.store(true, ordering: .relaxed)
            let failed = try await h.send("/user/new", json: #"{"user_id":"ada","max_budget":1}"#)
            #expect(failed.status >= 500, "\(failed.text)")
            #expect(try await h.send("/user/info?user_id=ada").status == 404)
            // The same call goes through once the store takes keys again: no duplicate left behind.
            store.refusesKeys.store(false, ordering: .relaxed)
            let made = try await h.send("/user/new", json: #"{"user_id":"ada","max_budget":1}"#)
            #expect(made.status == 200 && made.json?["key"]?.stringValue?.hasPrefix("sk-") == true)
        }
    }

    @Test func userUpdateByIdOrEmailAndDelete() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t1"}"#).status == 200)
            let key = try #require(
                try await h.send("/user/new", json: #"{"user_id":"ada","user_email":"ada@example.com","team_id":"t1"}"#)
                    .json?["key"]?.stringValue)
            let neither = try await h.send("/user/update", json: #"{"max_budget":1}"#)
            #expect(
                neither.status == 400 && neither.json?["error"]?["message"] == "Either user id or user email must be provided")
            let updated = try await h.send(
                "/user/update",
                json: #"{"user_email":"ADA@example.com","spend":2,"max_budget":5,"user_alias":"A","guardrails":["pii"]}"#)
            #expect(updated.status == 200 && updated.json?["user_id"] == "ada")
            let data = try #require(updated.json?["data"])
            #expect(data["spend"]?.doubleValue == 2 && data["max_budget"]?.doubleValue == 5 && data["user_alias"] == "A")
            #expect(data["user_email"] == "ada@example.com" && data["guardrails"] == .array(["pii"]))
            // The user's spend took effect: at its budget the user's key is refused.
            _ = try await h.send("/user/update", json: #"{"user_id":"ada","spend":5}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: key).status == 422)
            #expect(try await h.send("/user/update", json: #"{"user_email":"nobody@example.com"}"#).status == 404)
            // Delete: the user, their keys, their places in teams.
            #expect(try await h.send("/user/delete", json: #"{"user_ids":["ada"]}"#).status == 200)
            #expect(try await h.send("/team/info?team_id=t1").json?["team_info"]?["members_with_roles"] == .array([]))
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: key).status == 401)
        }
    }

    // MARK: - /key/*

    @Test func keyGenerateTakesEveryGenerateKeyRequestField() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(
                try await h.send("/organization/new", json: #"{"organization_id":"o1","organization_alias":"O"}"#).status == 200)
            let reply = try await h.send(
                "/key/generate",
                json: """
                    {"key":"\(Self.customKey)","key_alias":"k1","spend":0.25,"organization_id":"o1","tags":["billing"],
                     "allowed_routes":["/v1/chat/completions"],"model_rpm_limit":{"local":5},"model_tpm_limit":{"local":50},
                     "model_max_budget":{"local":{"budget_limit":1,"time_period":"1d"}},"key_type":"llm_api",
                     "permissions":{"p":1},"config":{},"guardrails":["pii"],"enforced_params":["user"],"auto_rotate":true,
                     "rotation_interval":"30d","object_permission":{"vector_stores":["v"]},"access_group_ids":["ag"],
                     "project_id":"p1","budget_limits":[{"budget_duration":"1d","max_budget":1}],"tpd_limit":1000,
                     "rpm_limit_type":"best_effort_throughput","tpm_limit_type":"dynamic","soft_budget":1,"blocked":false,
                     "metadata":{"m":1},"max_budget":100,"duration":null}
                    """)
            #expect(reply.status == 200)
            let key = try #require(reply.json)
            // GenerateKeyResponse.
            #expect(key["key"] == .string(Self.customKey) && key["token"] == .string(Self.customToken))
            #expect(key["token_id"] == .string(Self.customToken) && key["key_name"] == "sk-...3456")
            #expect(key["expires"] == .null && key["litellm_budget_table"] == .null && key["created_by"] != nil)
            #expect(key["created_at"]?.stringValue != nil && key["updated_at"]?.stringValue != nil)
            let echoed: [(String, JSONValue)] = [
                ("key_alias", "k1"), ("spend", .double(0.25)), ("organization_id", "o1"), ("tags", .array(["billing"])),
                ("allowed_routes", .array(["/v1/chat/completions"])), ("model_rpm_limit", .object(["local": .int(5)])),
                ("model_tpm_limit", .object(["local": .int(50)])), ("key_type", "llm_api"),
                ("permissions", .object(["p": .int(1)])),
                ("config", .object([:])), ("guardrails", .array(["pii"])), ("enforced_params", .array(["user"])),
                ("auto_rotate", true), ("rotation_interval", "30d"),
                ("object_permission", .object(["vector_stores": .array(["v"])])),
                ("access_group_ids", .array(["ag"])), ("project_id", "p1"), ("tpd_limit", .int(1000)),
                ("rpm_limit_type", "best_effort_throughput"), ("tpm_limit_type", "dynamic"), ("soft_budget", .double(1)),
                ("blocked", false), ("metadata", .object(["m": .int(1)])), ("max_budget", .double(100)),
            ]
            for (field, value) in echoed { #expect(key[field]?.encodedString() == value.encodedString(), "\(field)") }
            // Round trip: /key/info shows the same.
            let info = try #require(try await h.send("/key/info?key=\(Self.customToken)").json?["info"])
            for (field, value) in echoed { #expect(info[field]?.encodedString() == value.encodedString(), "\(field)") }

            // LiteLLM's custom-key rule: `sk-` and at least 16 characters, in its words.
            let short = try await h.send("/key/generate", json: #"{"key":"sk-123456789012"}"#)
            #expect(
                short.json?["error"]?["message"] == "Invalid key format. LiteLLM Virtual Key must be at least 16 characters long."
            )
            let prefix = try await h.send("/key/generate", json: #"{"key":"pk-1234567890abcdef"}"#)
            #expect(
                prefix.json?["error"]?["message"]
                    == "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: pk-1****cdef")
            #expect(try await h.send("/key/generate", json: #"{"key":"sk-1234567890abcd"}"#).status == 200)
            // Unique aliases, kinds checked, unknown fields and owners refused.
            let again = try await h.send("/key/generate", json: #"{"key_alias":"k1"}"#)
            #expect(
                again.json?["error"]?["message"]
                    == "Key with alias 'k1' already exists. Unique key aliases across all keys are required.")
            #expect(try await h.send("/key/generate", json: #"{"key_type":"superuser"}"#).json?["error"]?["param"] == "key_type")
            #expect(try await h.send("/key/generate", json: #"{"guardrails":"pii"}"#).json?["error"]?["param"] == "guardrails")
            #expect(
                try await h.send("/key/generate", json: #"{"organization_id":"nope"}"#).json?["error"]?["param"]
                    == "organization_id")
            #expect(try await h.send("/key/generate", json: #"{"colour":"red"}"#).json?["error"]?["param"] == "colour")
            // An empty team or organisation id is unset, as LiteLLM reads it.
            #expect(try await h.send("/key/generate", json: #"{"team_id":"","organization_id":""}"#).json?["team_id"] == .null)
        }
    }

    @Test func keyTagsAllowedRoutesAndOrganizationTakeEffect() async throws {
        try await Harness.with(config: e2eConfig) { h in
            _ = try await h.send(
                "/organization/new", json: #"{"organization_id":"o1","organization_alias":"O","max_budget":0.0000001}"#)
            let key = try await h.newKey(
                #"{"tags":["billing"],"allowed_routes":["/v1/chat/completions"],"organization_id":"o1"}"#)
            let token = try #require(try await h.send("/key/info?key=\(key)").json?["key"]?.stringValue)
            // Tags join the request's own.
            let first = try await h.send(
                "/v1/chat/completions", json: Self.chat, key: key, headers: [("x-spanway-tags", "batch")])
            #expect(first.status == 200)
            let logs = try #require(try await h.send("/spend/logs?api_key=\(token)").json?.arrayValue)
            #expect(logs.map { $0["tags"] } == [.array(["batch", "billing"])])
            // The key's organisation's budget binds it (it has no team): spent, the next request is refused.
            let over = try await h.send("/v1/chat/completions", json: Self.chat, key: key)
            #expect(over.status == 422)
            // allowed_routes: other routes are refused with LiteLLM's words.
            let other = try await h.send("/chat/completions", json: Self.chat, key: key)
            #expect(other.status == 403)
            #expect(
                other.json?["error"]?["message"]
                    == "Virtual key is not allowed to call this route. Only allowed to call routes: ['/v1/chat/completions']. Tried to call route: /chat/completions"
            )
            #expect(try await h.send("/key/info", key: key).status == 403)
            // Every route a key may call is checked, not only the model calls.
            for route in ["/v1/models", "/models/local", "/v1/model/info", "/model_group/info"] {
                #expect(try await h.send(route, key: key).status == 403, "\(route)")
            }
            #expect(try await h.send("/v1/messages/count_tokens", json: #"{"model":"local"}"#, key: key).status == 403)
            // A route group name allows its routes.
            let grouped = try await h.newKey(#"{"allowed_routes":["llm_api_routes"]}"#)
            #expect(try await h.send("/chat/completions", json: Self.chat, key: grouped).status == 200)
            #expect(try await h.send("/key/info", key: grouped).status == 403)
            let info = try await h.newKey(#"{"allowed_routes":["info_routes"]}"#)
            #expect(try await h.send("/key/info", key: info).status == 200)
            for route in ["/v1/models", "/models", "/model/info", "/model_group/info"] {
                #expect(try await h.send(route, key: info).status == 200, "\(route)")
                #expect(try await h.send(route, key: grouped).status == 200, "\(route)")
            }
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: info).status == 403)
        }
    }

    @Test func keySpendAndTemporaryBudgetIncrease() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let key = try await h.newKey(#"{"key_alias":"tight","max_budget":1,"spend":1}"#)
            // `spend` set at creation counts: the key is at its budget.
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: key).status == 422)
            let pair = try await h.send("/key/update", json: #"{"key":"\#(key)","temp_budget_increase":5}"#)
            #expect(pair.json?["error"]?["message"] == "temp_budget_increase and temp_budget_expiry must be set together")
            let raised = try await h.send(
                "/key/update", json: #"{"key":"\#(key)","temp_budget_increase":5,"temp_budget_expiry":"2100-01-01T00:00:00"}"#)
            #expect(raised.status == 200 && raised.json?["key"] == .string(key))
            #expect(
                raised.json?["temp_budget_increase"]?.doubleValue == 5
                    && raised.json?["temp_budget_expiry"] == "2100-01-01T00:00:00Z")
            #expect(raised.json?["max_budget"]?.doubleValue == 1)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: key).status == 200)
            // Expired, the increase no longer counts.
            _ = try await h.send(
                "/key/update",
                json: #"{"key_alias":"tight","temp_budget_increase":5,"temp_budget_expiry":"2000-01-01T00:00:00Z"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: key).status == 422)
            // Named by alias; neither key nor alias is LiteLLM's error.
            let byAlias = try await h.send("/key/update", json: #"{"key_alias":"tight","max_budget":50}"#)
            #expect(byAlias.status == 200 && byAlias.json?["max_budget"]?.doubleValue == 50)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: key).status == 200)
            let neither = try await h.send("/key/update", json: #"{"max_budget":3}"#)
            #expect(neither.status == 400 && neither.json?["error"]?["message"] == "either key or key_alias must be provided")
            let unknown = try await h.send("/key/update", json: #"{"key_alias":"nope","max_budget":3}"#)
            #expect(unknown.status == 404 && unknown.json?["error"]?["message"] == "Key not found. No key with key_alias='nope'.")
            // With `key`, `key_alias` renames.
            let renamed = try await h.send("/key/update", json: #"{"key":"\#(key)","key_alias":"roomy"}"#)
            #expect(renamed.json?["key_alias"] == "roomy")
        }
    }

    @Test func keyBlockUnblockListFiltersAndDeleteByAlias() async throws {
        try await Harness.with(config: e2eConfig) { h in
            _ = try await h.send("/organization/new", json: #"{"organization_id":"o1","organization_alias":"O"}"#)
            let first = try await h.newKey(#"{"key_alias":"a","organization_id":"o1"}"#)
            let second = try await h.newKey(#"{"key_alias":"b"}"#)
            let firstToken = try #require(try await h.send("/key/info?key=\(first)").json?["key"]?.stringValue)
            let blocked = try await h.send("/key/block", json: #"{"key":"\#(first)"}"#)
            #expect(blocked.status == 200 && blocked.json?["blocked"] == true)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: first).status == 401)
            #expect(try await h.send("/key/block", json: #"{"key":"sk-not-a-real-key-000"}"#).status == 404)

            func tokens(_ query: String) async throws -> [JSONValue]? {
                try await h.send("/key/list?\(query)").json?["keys"]?.arrayValue
            }
            #expect(try await tokens("key_alias=a") == [.string(firstToken)])
            #expect(try await tokens("organization_id=o1") == [.string(firstToken)])
            #expect(try await tokens("key_hash=\(firstToken)") == [.string(firstToken)])
            #expect(try await tokens("status=revoked") == [.string(firstToken)])
            #expect(try await tokens("status=active")?.count == 1)
            #expect(try await tokens("status=deleted") == [])
            #expect(try await tokens("key_alias=b&return_full_object=true")?.first?["key_alias"] == "b")
            #expect(try await h.send("/key/list?size=101").json?["error"]?["param"] == "size")
            #expect(try await h.send("/key/list?size=100").status == 200)

            #expect(try await h.send("/key/unblock", json: #"{"key":"\#(firstToken)"}"#).json?["blocked"] == false)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: first).status == 200)
            // RegenerateKeyRequest takes the generate fields: they change the new key.
            let regenerated = try await h.send(
                "/key/regenerate", json: #"{"key":"\#(first)","key_alias":"a2","max_budget":7,"duration":"1h"}"#)
            #expect(regenerated.status == 200 && regenerated.json?["key_alias"] == "a2")
            #expect(regenerated.json?["max_budget"]?.doubleValue == 7 && regenerated.json?["expires"]?.stringValue != nil)
            #expect(try await h.send("/key/regenerate", json: #"{"key":"\#(second)","new_master_key":"sk-x"}"#).status == 400)
            let deleted = try await h.send("/key/delete", json: #"{"key_aliases":["b"]}"#)
            #expect(deleted.status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat, key: second).status == 401)
        }
    }

    // MARK: - /team/*

    @Test func teamFieldsModelAliasesAndInfoShape() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let created = try await h.send(
                "/team/new",
                json: """
                    {"team_id":"t","team_alias":"T","members_with_roles":[{"user_id":"u1","role":"admin"}],
                     "team_member_budget":5,"team_member_rpm_limit":3,"team_member_tpm_limit":4,"team_member_key_duration":"1d",
                     "model_aliases":{"fast":"local"},"tags":["x"],"model_max_budget":{"local":{"budget_limit":1}},
                     "model_rpm_limit":{"local":1},"soft_budget":2,"models":["local"],"metadata":{"k":"v"}}
                    """)
            #expect(created.status == 200)
            let team = try #require(created.json)
            let echoed: [(String, JSONValue)] = [
                ("team_alias", "T"), ("team_member_budget", .double(5)), ("team_member_rpm_limit", .int(3)),
                ("team_member_tpm_limit", .int(4)), ("team_member_key_duration", "1d"),
                ("model_aliases", .object(["fast": "local"])),
                ("tags", .array(["x"])), ("model_rpm_limit", .object(["local": .int(1)])), ("soft_budget", .double(2)),
                ("models", .array(["local"])), ("metadata", .object(["k": "v"])),
            ]
            for (field, value) in echoed { #expect(team[field]?.encodedString() == value.encodedString(), "\(field)") }
            // model_aliases take effect for the team's keys.
            let key = try await h.newKey(#"{"team_id":"t","user_id":"u1"}"#)
            let aliased = try await h.send("/v1/chat/completions", json: Self.chat("fast"), key: key)
            #expect(aliased.status == 200 && aliased.headers.first(name: "x-spanway-model-group") == "local")

            // TeamInfoResponseObject: {team_id, team_info, keys, team_memberships}.
            let info = try #require(try await h.send("/team/info?team_id=t").json)
            #expect(Set(info.objectValue?.keys ?? []) == ["team_id", "team_info", "keys", "team_memberships"])
            #expect(info["keys"]?.arrayValue?.first?["team_id"] == "t")
            let membership = try #require(info["team_memberships"]?.arrayValue?.first)
            // The member's spend in the team is the one request's cost.
            let cost = try #require(aliased.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            #expect(membership["user_id"] == "u1" && membership["team_id"] == "t" && cost > 0)
            #expect(abs((membership["spend"]?.doubleValue ?? 0) - cost) < 1e-12)

            let updated = try await h.send(
                "/team/update", json: #"{"team_id":"t","tags":["y"],"model_aliases":null,"tpd_limit":9}"#)
            #expect(updated.json?["data"]?["tags"] == .array(["y"]) && updated.json?["data"]?["tpd_limit"]?.intValue == 9)
            #expect(try await h.send("/v1/chat/completions", json: Self.chat("fast"), key: key).status != 200)
            #expect(try await h.send("/team/update", json: #"{"team_id":"t","rpm_limit_type":"dynamic"}"#).status == 400)
            #expect(try await h.send("/team/new", json: #"{"colour":"red"}"#).json?["error"]?["param"] == "colour")
            // TeamMemberAddRequest: a member by email alone becomes a new user; the per-member budget is accepted.
            let added = try await h.send(
                "/team/member_add",
                json: #"{"team_id":"t","member":{"user_email":"new@example.com","role":"user"},"max_budget_in_team":10}"#)
            #expect(added.status == 200)
            let users = try #require(try await h.send("/user/list").json?["users"]?.arrayValue)
            let newcomer = try #require(users.first { $0["user_email"] == "new@example.com" }?["user_id"])
            #expect(
                added.json?["members_with_roles"]?.arrayValue?.contains(.object(["user_id": newcomer, "role": "user"])) == true)
            let removed = try await h.send("/team/member_delete", json: #"{"team_id":"t","user_email":"NEW@example.com"}"#)
            #expect(removed.json?["members_with_roles"]?.arrayValue?.contains { $0["user_id"] == newcomer } == false)
        }
    }

    // MARK: - /organization/*

    @Test func organizationFieldsAndListShape() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let missing = try await h.send("/organization/new", json: #"{"max_budget":1}"#)
            #expect(missing.status == 400 && missing.json?["error"]?["param"] == "organization_alias")
            let created = try await h.send(
                "/organization/new",
                json: """
                    {"organization_id":"o","organization_alias":"Org","max_budget":1,"budget_duration":"1d","tpm_limit":5,
                     "rpm_limit":6,"max_parallel_requests":2,"models":["local"],"metadata":{"a":1},"soft_budget":0.5,
                     "model_max_budget":{"local":{"budget_limit":1}},"model_rpm_limit":{"local":1},"tpd_limit":7}
                    """)
            #expect(created.status == 200)
            let organization = try #require(created.json)
            let echoed: [(String, JSONValue)] = [
                ("organization_alias", "Org"), ("max_budget", .double(1)), ("budget_duration", "1d"), ("tpm_limit", .int(5)),
                ("rpm_limit", .int(6)), ("max_parallel_requests", .int(2)), ("models", .array(["local"])),
                ("metadata", .object(["a": .int(1)])), ("soft_budget", .double(0.5)),
                ("model_rpm_limit", .object(["local": .int(1)])),
                ("tpd_limit", .int(7)),
            ]
            for (field, value) in echoed { #expect(organization[field]?.encodedString() == value.encodedString(), "\(field)") }
            _ = try await h.send("/team/new", json: #"{"team_id":"t","organization_id":"o"}"#)
            _ = try await h.send("/organization/new", json: #"{"organization_id":"p","organization_alias":"Other"}"#)
            // LiteLLM_OrganizationTableWithMembers items, with LiteLLM's filters.
            let list = try #require(try await h.send("/organization/list?org_alias=org").json?.arrayValue)
            #expect(list.count == 1 && list.first?["members"] == .array([]))
            #expect(list.first?["teams"]?.arrayValue?.map { $0["team_id"] } == ["t"])
            #expect(try await h.send("/organization/list?org_id=p").json?.arrayValue?.map { $0["organization_id"] } == ["p"])
            let updated = try await h.send("/organization/update", json: #"{"organization_id":"o","soft_budget":2,"spend":0.25}"#)
            #expect(updated.json?["soft_budget"]?.doubleValue == 2 && updated.json?["spend"]?.doubleValue == 0.25)
        }
    }

    // MARK: - A LiteLLM admin script

    /// Plain `httpx` calls as an admin script written for LiteLLM makes them (httpx comes with the
    /// `openai` package that `.ci/run` installs).
    static let adminScript = #"""
        import sys, httpx
        base, master = sys.argv[1], sys.argv[2]
        admin = httpx.Client(base_url=base, headers={"Authorization": "Bearer " + master})
        def ok(reply):
            assert reply.status_code == 200, (reply.status_code, reply.text)
            return reply.json()
        ok(admin.post("/team/new", json={"team_id": "eng", "team_alias": "Engineering", "team_member_budget": 10,
                                          "model_aliases": {"fast": "local"}, "tags": ["eng"]}))
        user = ok(admin.post("/user/new", json={"user_id": "grace", "user_email": "grace@example.com",
            "user_role": "internal_user", "team_id": "eng", "max_budget": 25, "budget_duration": "30d",
            "key_alias": "grace-laptop", "duration": "30d", "models": ["local"], "metadata": {"source": "script"}}))
        assert user["key"].startswith("sk-") and user["user_id"] == "grace" and user["teams"] == ["eng"], user
        assert user["max_budget"] == 25 and user["key_alias"] == "grace-laptop" and user["expires"], user
        chat = httpx.post(base + "/v1/chat/completions", headers={"Authorization": "Bearer " + user["key"]},
                          json={"model": "fast", "messages": [{"role": "user", "content": "hi"}]})
        assert chat.status_code == 200, chat.text
        key = ok(admin.post("/key/generate", json={"key_alias": "ci", "team_id": "eng", "spend": 0,
            "tags": ["ci"], "key_type": "llm_api", "guardrails": ["pii"], "model_max_budget": {}, "permissions": {}}))
        assert key["token_id"] == key["token"] and key["key_name"].startswith("sk-...") and "litellm_budget_table" in key
        updated = ok(admin.post("/key/update", json={"key_alias": "ci", "max_budget": 5, "temp_budget_increase": 1,
            "temp_budget_expiry": "2100-01-01T00:00:00"}))
        assert updated["max_budget"] == 5 and updated["temp_budget_increase"] == 1, updated
        ok(admin.post("/user/update", json={"user_email": "grace@example.com", "user_alias": "Grace", "spend": 1}))
        info = ok(admin.get("/user/info", params={"user_id": "grace"}))
        assert info["user_info"]["user_alias"] == "Grace" and len(info["keys"]) == 1 and info["teams"][0]["team_id"] == "eng"
        team = ok(admin.get("/team/info", params={"team_id": "eng"}))
        assert set(team) == {"team_id", "team_info", "keys", "team_memberships"}, team
        assert [m["user_id"] for m in team["team_memberships"]] == ["grace"], team
        listed = ok(admin.get("/key/list", params={"key_alias": "ci", "return_full_object": "true", "size": 100}))
        assert [k["key_alias"] for k in listed["keys"]] == ["ci"], listed
        org = ok(admin.post("/organization/new", json={"organization_alias": "Acme", "max_budget": 100, "models": []}))
        orgs = ok(admin.get("/organization/list"))
        assert [o["organization_id"] for o in orgs] == [org["organization_id"]] and orgs[0]["members"] == [], orgs
        print("ok")
        """#

    @Test(.enabled(if: PythonSDKTests.importable("httpx"), "needs python3 with httpx (pip install httpx)"))
    func aLiteLLMAdminScriptRunsUnchanged() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let (status, output) = try await PythonSDKTests.runPython(Self.adminScript, [h.gatewayURL, Harness.master])
            #expect(status == 0, "\(output)")
            #expect(output.contains("ok"))
        }
    }
}
