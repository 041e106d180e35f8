import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry
import Testing

@testable import Proxy

/// The admin API's fields: one list per record type, LiteLLM's names
/// (https://docs.litellm.ai/docs/proxy/virtual_keys, https://docs.litellm.ai/docs/proxy/users).
@Suite struct AdminFieldsTests {
    static let limitNames: Set<String> = [
        "models", "max_budget", "budget_duration", "tpm_limit", "rpm_limit", "max_parallel_requests", "metadata",
    ]

    func body(_ json: String) throws -> JSONObject {
        try #require(try JSONParser.parse(json).objectValue)
    }

    func refusal<Record>(_ json: String, _ fields: AdminFields<Record>) throws -> GatewayError? {
        let object = try body(json)
        do {
            _ = try fields.changes(object, now: 0)
            return nil
        } catch {
            return error
        }
    }

    /// LiteLLM 1.108.7's `GenerateRequestBase` (`types/proxy/management_endpoints/request_base.py`),
    /// less `user_id`/`team_id`/`key_alias`, which each record names itself.
    static let generateBase: Set<String> = [
        "duration", "models", "spend", "max_budget", "agent_id", "max_parallel_requests", "metadata", "tpm_limit",
        "rpm_limit", "budget_duration", "budget_limits", "allowed_cache_controls", "config", "permissions",
        "model_max_budget", "budget_fallbacks", "model_rpm_limit", "model_tpm_limit", "mcp_rpm_limit", "tag_rpm_limit",
        "guardrails", "policies", "prompts", "blocked", "aliases", "object_permission",
    ]

    @Test func eachRecordTypeAcceptsLiteLLMsFields() {
        // `KeyRequestBase` and `GenerateKeyRequest`/`UpdateKeyRequest` (`key_requests.py`); `key`
        // names the key and is not a field; `router_settings` is kept as an object; `allow_evaluations`
        // is Spanway's own.
        let key = Self.generateBase.union([
            "key_alias", "user_id", "team_id", "tpd_limit", "default_estimated_output_tokens",
            "default_estimated_output_tokens_per_model", "budget_id", "end_user_budget_id", "tags",
            "disable_global_guardrails", "enable_prompt_caching", "throttle_on_budget_exceeded", "enforced_params",
            "allowed_routes", "allowed_passthrough_routes", "denied_passthrough_routes", "allowed_vector_store_indexes",
            "rpm_limit_type", "tpm_limit_type", "router_settings", "access_group_ids", "soft_budget", "send_invite_email",
            "key_type", "auto_rotate", "rotation_interval", "organization_id", "project_id", "temp_budget_increase",
            "temp_budget_expiry", "allow_evaluations",
        ])
        #expect(VirtualKey.adminFields.settable == key)
        // `NewTeamRequest` and `UpdateTeamRequest` (`proxy/_types.py`) with `TeamBase`'s identity,
        // members and limits.
        let team: Set<String> = Self.limitNames.union([
            "team_alias", "organization_id", "blocked", "members_with_roles", "admins", "members",
            "team_member_permissions", "model_aliases", "tags", "soft_budget", "model_max_budget", "model_rpm_limit",
            "model_tpm_limit", "tpd_limit", "rpm_limit_type", "tpm_limit_type", "team_member_budget",
            "team_member_budget_duration", "team_member_rpm_limit", "team_member_tpm_limit", "team_member_key_duration",
            "team_member_model_max_budget", "default_team_member_models", "guardrails", "policies", "prompts",
            "object_permission", "allowed_passthrough_routes", "denied_passthrough_routes", "disable_global_guardrails",
            "require_trace_id", "secret_manager_settings", "default_estimated_output_tokens",
            "default_estimated_output_tokens_per_model", "mcp_rpm_limit", "allowed_vector_store_indexes",
            "enforced_batch_output_expires_after", "enforced_file_expires_after", "router_settings", "access_group_ids",
            "budget_limits",
        ])
        #expect(Team.adminFields.settable == team)
        // `NewUserRequest`/`UpdateUserRequest` (`user_requests.py`); `user_id`, `teams`,
        // `auto_create_key` and `password` are taken by the handlers, not stored.
        let user = Self.generateBase.union([
            "key_alias", "team_id", "user_alias", "user_email", "user_role", "sso_user_id", "organizations",
            "send_invite_email",
        ])
        #expect(User.adminFields.settable == user)
        // `NewOrganizationRequest` and its `LiteLLM_BudgetTable` fields, `LiteLLM_OrganizationTableUpdate`.
        let organization = Self.limitNames.union([
            "organization_alias", "budget_id", "spend", "soft_budget", "model_max_budget", "tpd_limit",
            "model_rpm_limit", "model_tpm_limit", "object_permission",
        ])
        #expect(Organization.adminFields.settable == organization)
    }

    @Test func limitFieldsAreParsedIntoTheLimitsValue() throws {
        var team = Team(teamID: "t", createdAt: 0)
        let now = 1_000_000.0
        let changes = try Team.adminFields.changes(
            try body(
                #"{"models":["a","b"],"max_budget":2.5,"budget_duration":"30d","tpm_limit":100,"rpm_limit":10,"max_parallel_requests":2,"metadata":{"k":"v"}}"#
            ), now: now)
        changes.apply(to: &team)
        // LiteLLM's `30d` is thirty days of 86,400 seconds; the first period starts now.
        #expect(
            team.limits
                == Limits(
                    models: ["a", "b"], maxBudget: 2.5, budgetDuration: "30d", budgetResetAt: now + 30 * 86_400,
                    tpmLimit: 100, rpmLimit: 10, maxParallelRequests: 2))
        #expect(team.metadata == #"{"k":"v"}"#)

        // `null` clears each of them.
        try Team.adminFields.changes(
            try body(
                #"{"models":null,"max_budget":null,"budget_duration":null,"tpm_limit":null,"rpm_limit":null,"max_parallel_requests":null,"metadata":null}"#
            ), now: now
        ).apply(to: &team)
        #expect(team.limits == Limits() && team.metadata == "{}")
    }

    @Test func badValuesAreRefusedNamingTheField() throws {
        let cases: [(String, String, String)] = [
            (#"{"models":"gpt-4o"}"#, "models", "'models' must be an array of strings, found string."),
            (#"{"models":["a",1]}"#, "models", "'models' must be an array of strings, found array."),
            (#"{"max_budget":"10"}"#, "max_budget", "'max_budget' must be a number, found string."),
            (#"{"max_budget":-1}"#, "max_budget", "'max_budget' must not be negative."),
            (#"{"tpm_limit":1.5}"#, "tpm_limit", "'tpm_limit' must be an integer, found number."),
            (#"{"rpm_limit":-3}"#, "rpm_limit", "'rpm_limit' must not be negative."),
            (
                #"{"max_parallel_requests":true}"#, "max_parallel_requests",
                "'max_parallel_requests' must be an integer, found boolean."
            ),
            (#"{"budget_duration":30}"#, "budget_duration", "'budget_duration' must be a duration string, found number."),
            (
                #"{"budget_duration":"soon"}"#, "budget_duration",
                "'budget_duration' must be a duration like 30s, 15m, 1h, 1d, 30d or 1mo."
            ),
            (#"{"metadata":[]}"#, "metadata", "'metadata' must be an object, found array."),
            (#"{"team_alias":5}"#, "team_alias", "'team_alias' must be a string, found number."),
            (#"{"blocked":"yes"}"#, "blocked", "'blocked' must be a boolean, found string."),
            (#"{"spend":0}"#, "spend", "Unknown field 'spend'."),
            (#"{"budget_reset_at":0}"#, "budget_reset_at", "Unknown field 'budget_reset_at'."),
        ]
        for (json, field, message) in cases {
            let error = try #require(try refusal(json, Team.adminFields), "\(json) was accepted")
            #expect(error.status == 400 && error.param == field && error.message == message, "\(json): \(error.message)")
        }
    }

    @Test func keyOnlyFieldsAreCheckedToo() throws {
        let aliases = try #require(try refusal(#"{"aliases":{"a":1}}"#, VirtualKey.adminFields))
        #expect(aliases.message == "'aliases' must be an object of strings, found object.")
        var key = VirtualKey(token: "t", keyName: "sk-...t", createdAt: 0)
        try VirtualKey.adminFields.changes(
            try body(#"{"duration":"1h","soft_budget":3,"aliases":{"gpt-4":"mini"},"key":"sk-ignored"}"#), passing: ["key"],
            now: 100
        ).apply(to: &key)
        #expect(key.expiresAt == 100 + 3600 && key.softBudget == 3 && key.aliases == ["gpt-4": "mini"])
    }

    /// Every record type shows the same limit fields, under the same names, the same way.
    @Test func limitsRenderTheSameForEveryRecordType() throws {
        let limits = Limits(
            models: ["m"], maxBudget: 4, budgetDuration: "1d", budgetResetAt: 86_400, spend: 1.25, tpmLimit: 7, rpmLimit: 8,
            maxParallelRequests: 9)
        var key = VirtualKey(token: "tok", keyName: "sk-...abcd", limits: limits, metadata: #"{"a":1}"#, createdAt: 0)
        key.softBudget = 2
        var team = Team(teamID: "t", createdAt: 0)
        var user = User(userID: "u", createdAt: 0)
        var organization = Organization(organizationID: "o", organizationAlias: "Acme", createdAt: 0)
        team.limits = limits
        user.limits = limits
        organization.limits = limits
        team.metadata = key.metadata
        user.metadata = key.metadata
        organization.metadata = key.metadata
        let rendered = [
            VirtualKey.adminFields.render(key), team.json, user.json, organization.json,
        ]
        for json in rendered {
            #expect(json["models"] == .array(["m"]) && json["max_budget"] == .double(4))
            #expect(json["budget_duration"] == "1d" && json["budget_reset_at"] == "1970-01-02T00:00:00Z")
            #expect(json["spend"] == .double(1.25) && json["tpm_limit"] == .int(7) && json["rpm_limit"] == .int(8))
            #expect(json["max_parallel_requests"] == .int(9) && json["metadata"] == .object(["a": .int(1)]))
        }
        let keyJSON = VirtualKey.adminFields.render(key)
        #expect(keyJSON["token"] == "tok" && keyJSON["key_name"] == "sk-...abcd" && keyJSON["soft_budget"] == .double(2))
        #expect(keyJSON["expires"] == .null && keyJSON["duration"] == nil)
    }

    /// Fields set through the admin API, stored, read back and shown, come out as they went in.
    @Test func fieldsRoundTripThroughTheStore() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID()).db").path)
        let input = try body(
            #"{"team_alias":"Ops","models":["a"],"max_budget":3,"budget_duration":"1h","tpm_limit":5,"rpm_limit":6,"max_parallel_requests":7,"metadata":{"x":"y"},"members_with_roles":[{"user_id":"u1","role":"admin"}]}"#
        )
        var team = Team(teamID: "t1", createdAt: 10)
        try Team.adminFields.changes(input, now: 10).apply(to: &team)
        try await store.insert(team)
        let shown = try #require(try await store.fetch(Team.self, id: "t1")).json
        for (name, value) in input.members {
            #expect(shown[name] == value, "\(name)")
        }
        #expect(shown["budget_reset_at"] == "1970-01-01T01:00:10Z" && shown["spend"] == .double(0))
    }

    /// The raw key exists in the answer to `/key/generate` and nowhere on disk: the admin path
    /// hands the store its digest only. The digest is found, so the scan can see what is written.
    @Test func aRawKeyNeverReachesTheDatabaseFiles() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID()).db").path
        let store = try SQLiteStore(path: path)
        let clock = ManualClock(seconds: 1_800_000_000)
        let authenticator = Authenticator(masterKey: "sk-master-key-for-tests", store: store, clock: clock)
        let keys = KeyManagement(store: store, authenticator: authenticator)
        let raw = "sk-raw-secret-key-0123456789"
        let (shown, key) = try await keys.create(try body(#"{"key":"\#(raw)","key_alias":"app","max_budget":1}"#))
        #expect(shown == raw && key.token == KeyDigest(key: raw).hex)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(raw)"
        let principal = try await authenticator.authenticate(headers)
        #expect(principal.key?.token == key.token && principal.key?.createdAt == 1_800_000_000)
        try await store.recordSpend([
            SpendRow(
                requestID: "r", traceID: "t", startTime: 0, endTime: 0, keyHash: key.token, operation: "chat", statusCode: 200)
        ])
        let files = ["", "-wal", "-shm"].map { FileManager.default.contents(atPath: path + $0) ?? Data() }
        #expect(files.contains { $0.range(of: Data(key.token.utf8)) != nil }, "the digest should be on disk")
        for bytes in files {
            #expect(bytes.range(of: Data(raw.utf8)) == nil)
            #expect(bytes.range(of: Data("raw-secret-key".utf8)) == nil)
        }
    }

    /// Creation times and budget periods come from the gateway's clock, not the wall clock.
    @Test func adminTimesComeFromTheInjectedClock() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID()).db").path)
        let clock = ManualClock(seconds: 2_000_000_000)
        let authenticator = Authenticator(masterKey: "sk-master-key-for-tests", store: store, clock: clock)
        let teams = TeamManagement(store: store, authenticator: authenticator)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer sk-master-key-for-tests"
        let created = await teams.create(ByteBuffer(string: #"{"team_id":"t","budget_duration":"1h"}"#), headers: headers)
        #expect(created.status == 200)
        let team = try #require(try await store.fetch(Team.self, id: "t"))
        #expect(team.createdAt == 2_000_000_000 && team.limits.budgetResetAt == 2_000_000_000 + 3600)
        clock.advance(by: .seconds(60))
        let updated = await teams.update(ByteBuffer(string: #"{"team_id":"t","budget_duration":"1d"}"#), headers: headers)
        #expect(updated.status == 200)
        #expect(try await store.fetch(Team.self, id: "t")?.limits.budgetResetAt == 2_000_000_060 + 86_400)
    }
}
