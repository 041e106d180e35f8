import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import Proxy

/// Who may use which model, as LiteLLM 1.108.7 decides it (proxy/auth/auth_checks.py
/// `check_model_access_helper`, `_resolve_key_models_for_auth_check`; proxy/auth/model_checks.py
/// `get_complete_model_list` for `/v1/models`): `*` and `all-proxy-models` allow every model, a
/// key's `all-team-models` its team's, an entry naming a `model_info.access_groups` group every
/// model in it; key, team, user and organisation lists all bind. `/v1/models` lists exactly what
/// a request may use. A team member's key reads its own `/team/info`.
@Suite(.timeLimit(.minutes(3))) struct ModelAccessTests {
    static let models = ["alpha", "bravo", "charlie", "delta"]

    static let config = """
        general_settings: {master_key: \(Harness.master)}
        model_list:
          - {model_name: alpha, litellm_params: {model: mock/gpt-4o-mini}, model_info: {access_groups: [beta]}}
          - {model_name: bravo, litellm_params: {model: mock/gpt-4o-mini}, model_info: {access_groups: [beta, gamma]}}
          - {model_name: charlie, litellm_params: {model: mock/gpt-4o-mini}}
          - {model_name: delta, litellm_params: {model: mock/gpt-4o-mini}, model_info: {access_groups: gamma}}
        """

    static func listed(_ h: Harness, key: String, query: String = "") async throws -> [String] {
        let reply = try await h.send("/v1/models" + query, method: .GET, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    /// The models a chat request is admitted to, asked one by one.
    static func usable(_ h: Harness, key: String) async throws -> [String] {
        var usable: [String] = []
        for model in models {
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#, key: key)
            if reply.status == 200 { usable.append(model) } else { #expect(reply.status == 403, "\(model): \(reply.text)") }
        }
        return usable
    }

    /// `/v1/models` and admission agree, and both say `expected`.
    static func expectAccess(_ h: Harness, key: String, _ expected: [String], _ comment: Comment) async throws {
        #expect(try await listed(h, key: key) == expected, comment)
        #expect(try await usable(h, key: key) == expected, comment)
    }

    @Test func wildcardsSpecialNamesAndAccessGroupsDecideListingAndUseAlike() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t-charlie","models":["charlie"]}"#).status == 200)
            #expect(try await h.send("/team/new", json: #"{"team_id":"t-beta","models":["beta"]}"#).status == 200)
            #expect(try await h.send("/team/new", json: #"{"team_id":"t-all","models":["all-proxy-models"]}"#).status == 200)

            try await Self.expectAccess(h, key: try await h.newKey(#"{"models":["*"]}"#), Self.models, "models: [*]")
            try await Self.expectAccess(
                h, key: try await h.newKey(#"{"models":["all-proxy-models"]}"#), Self.models, "all-proxy-models")
            try await Self.expectAccess(h, key: try await h.newKey(#"{"models":["beta"]}"#), ["alpha", "bravo"], "beta group")
            try await Self.expectAccess(
                h, key: try await h.newKey(#"{"models":["gamma","charlie"]}"#), ["bravo", "charlie", "delta"], "gamma + charlie")
            try await Self.expectAccess(h, key: try await h.newKey(#"{"models":["alpha"]}"#), ["alpha"], "one model")
            // The team binds its keys: a key free of its own list gets the team's.
            try await Self.expectAccess(h, key: try await h.newKey(#"{"team_id":"t-beta"}"#), ["alpha", "bravo"], "team's group")
            // Both lists bind: key [*] in team [charlie] reaches charlie only.
            try await Self.expectAccess(
                h, key: try await h.newKey(#"{"team_id":"t-charlie","models":["*"]}"#), ["charlie"], "key * in team charlie")
            // `all-team-models` is the team's list.
            try await Self.expectAccess(
                h, key: try await h.newKey(#"{"team_id":"t-charlie","models":["all-team-models"]}"#), ["charlie"],
                "all-team-models")
            try await Self.expectAccess(
                h, key: try await h.newKey(#"{"team_id":"t-all","models":["all-team-models"]}"#), Self.models,
                "all-team-models of an all-proxy-models team")
            // The master key reaches everything.
            #expect(try await Self.listed(h, key: Harness.master) == Self.models)
        }
    }

    @Test func accessGroupNamesAreListedOnlyWhenAskedFor() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let beta = try await h.newKey(#"{"models":["beta"]}"#)
            let include = "?include_model_access_groups=true"
            let only = "?include_model_access_groups=true&only_model_access_groups=true"
            #expect(try await Self.listed(h, key: beta, query: include) == ["alpha", "bravo", "beta"])
            #expect(try await Self.listed(h, key: beta, query: only) == ["beta"])
            // As in LiteLLM, `only_model_access_groups` keeps access-group names, which are in the
            // list only with `include_model_access_groups`.
            #expect(try await Self.listed(h, key: beta, query: "?only_model_access_groups=true") == [])
            #expect(try await Self.listed(h, key: Harness.master, query: include) == Self.models + ["beta", "gamma"])
            #expect(try await Self.listed(h, key: Harness.master, query: only) == ["beta", "gamma"])
            let plain = try await h.newKey(#"{"models":["charlie"]}"#)
            #expect(try await Self.listed(h, key: plain, query: only) == [])
        }
    }

    @Test func aModelAddedAtRunTimeJoinsItsAccessGroup() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let beta = try await h.newKey(#"{"models":["beta"]}"#)
            let created = try await h.send(
                "/model/new",
                json:
                    #"{"model_name":"echo","litellm_params":{"model":"mock/gpt-4o-mini"},"model_info":{"access_groups":["beta"]}}"#
            )
            #expect(created.status == 200, "\(created.text)")
            #expect(try await Self.listed(h, key: beta) == ["alpha", "bravo", "echo"])
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"echo","messages":[{"role":"user","content":"hi"}]}"#, key: beta)
            #expect(reply.status == 200, "\(reply.text)")
        }
    }

    @Test func aTeamMembersKeyReadsItsOwnTeamOnly() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t1","team_alias":"One"}"#).status == 200)
            #expect(try await h.send("/team/new", json: #"{"team_id":"t2"}"#).status == 200)
            let member = try await h.newKey(#"{"team_id":"t1"}"#)
            let own = try await h.send("/team/info?team_id=t1", method: .GET, key: member)
            #expect(
                own.status == 200 && own.json?["team_id"] == "t1" && own.json?["team_info"]?["team_alias"] == "One", "\(own.text)"
            )
            let other = try await h.send("/team/info?team_id=t2", method: .GET, key: member)
            #expect(other.status == 403, "\(other.text)")
            let loner = try await h.newKey()
            #expect(try await h.send("/team/info?team_id=t1", method: .GET, key: loner).status == 403)
            #expect(try await h.send("/team/info?team_id=t2", method: .GET).status == 200)
            #expect(try await h.send("/team/info?team_id=t1", method: .GET, key: "sk-not-a-key").status == 401)
        }
    }
}
