import Foundation
import GatewayTesting
import Store
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

@Suite(.serialized, .timeLimit(.minutes(3))) struct TeamTests {
    static let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#

    @Test func aTeamsLimitsBindAllItsKeys() async throws {
        // A stopped clock: all five requests fall in one rate-limit minute whenever the test runs.
        try await Harness.with(config: e2eConfig, clock: TestTime.clock(secondsIntoMinute: 15)) { h in
            // Four a minute: the refused request below counts too (limits are checked from the
            // headers, before the body names a model).
            let created = try await h.send(
                "/team/new", json: #"{"team_id":"research","team_alias":"Research","models":["local"],"rpm_limit":4}"#)
            #expect(created.status == 200 && created.json?["team_alias"] == "Research")
            let a = try await h.newKey(#"{"team_id":"research","rpm_limit":100}"#)
            let b = try await h.newKey(#"{"team_id":"research"}"#)
            // The team's model list binds its keys.
            let denied = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, key: a)
            #expect(denied.status == 403 && denied.json?["error"]?["message"] == "This team may not use the model 'gpt-4o-mini'.")
            // The team's rpm is shared by its keys and is tighter than key a's own.
            let first = try await h.send("/v1/chat/completions", json: Self.body, key: a)
            #expect(first.status == 200 && first.headers.first(name: "x-ratelimit-remaining-requests") == "2")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: b).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: a).status == 200)
            let limited = try await h.send("/v1/chat/completions", json: Self.body, key: b)
            #expect(
                limited.status == 429 && limited.json?["error"]?["message"] == "This team is limited to 4 requests per minute.")
            #expect(limited.headers.first(name: "retry-after") == "45")

            let rows = try await h.store.spendLogs(SpendQuery(teamID: "research"))
            #expect(rows.filter { $0.statusCode == 200 }.count == 3 && rows.allSatisfy { $0.teamID == "research" })
            let info = try await h.send("/team/info?team_id=research").json
            #expect(info?["keys"]?.arrayValue?.count == 2)
            #expect(info?["team_info"]?["spend"]?.doubleValue ?? 0 > 0)
            try await h.eventually("spans carry the team alias") {
                h.receiver.spans.contains { $0[attribute: "spanway.team.alias"]?.stringValue == "Research" }
            }
        }
    }

    @Test func teamBudgetAndBlockApplyToItsKeys() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t","max_budget":0.0000001}"#).status == 200)
            let key = try await h.newKey(#"{"team_id":"t"}"#)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 200)
            let over = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            let message = try #require(over.json?["error"]?["message"]?.stringValue)
            #expect(over.status == 422 && message.hasPrefix("Budget has been exceeded! Team=t Current cost: "))
            #expect(message.hasSuffix(", Max budget: 1e-07"))
            #expect(
                try await h.send("/team/update", json: #"{"team_id":"t","max_budget":null,"blocked":true}"#).json?["data"]?[
                    "blocked"] == true)
            let blocked = try await h.send("/v1/chat/completions", json: Self.body, key: key)
            #expect(blocked.status == 401 && blocked.json?["error"]?["message"] == "This API key's team is blocked.")
        }
    }

    @Test func membersListsAndDeletion() async throws {
        try await Harness.with(config: e2eConfig) { h in
            _ = try await h.send("/team/new", json: #"{"team_id":"t1","members_with_roles":[{"user_id":"u1","role":"admin"}]}"#)
            let added = try await h.send("/team/member_add", json: #"{"team_id":"t1","member":[{"user_id":"u2"}]}"#)
            #expect(added.json?["members_with_roles"]?.arrayValue?.count == 2)
            #expect(try await h.send("/team/member_add", json: #"{"team_id":"t1","member":{"user_id":"u2"}}"#).status == 400)
            #expect(try await h.send("/team/member_delete", json: #"{"team_id":"t1","user_id":"u1"}"#).status == 200)
            #expect(try await h.send("/team/member_delete", json: #"{"team_id":"t1","user_id":"u1"}"#).status == 404)
            #expect(try await h.send("/team/list").json?.arrayValue?.count == 1)
            let key = try await h.newKey(#"{"team_id":"t1"}"#)
            let deleted = try await h.send("/team/delete", json: #"{"team_ids":["t1"]}"#)
            #expect(deleted.json?["deleted_teams"] == .array(["t1"]))
            // Deleting a team deletes its keys.
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 401)
            #expect(try await h.send("/team/info?team_id=t1").status == 404)
        }
    }

    @Test func aKeyCannotManageAnotherTeamsKeysOrTeam() async throws {
        try await Harness.with(config: e2eConfig) { h in
            for team in ["a", "b"] { #expect(try await h.send("/team/new", json: #"{"team_id":"\#(team)"}"#).status == 200) }
            let mine = try await h.newKey(#"{"team_id":"a"}"#)
            let theirs = try await h.newKey(#"{"team_id":"b"}"#)
            let info = try await h.send("/key/info?key=\(theirs)", key: mine)
            #expect(info.status == 403 && info.json?["error"]?["type"] == "permission_denied")
            #expect(try await h.send("/key/update", json: #"{"key":"\#(theirs)","team_id":"a"}"#, key: mine).status == 403)
            #expect(try await h.send("/key/delete", json: #"{"keys":["\#(theirs)"]}"#, key: mine).status == 403)
            #expect(try await h.send("/team/info?team_id=b", key: mine).status == 403)
            #expect(try await h.send("/team/update", json: #"{"team_id":"b","blocked":true}"#, key: mine).status == 403)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: theirs).status == 200)
        }
    }

    @Test(arguments: [
        ("/team/new", #"{"team_id":"x","colour":"red"}"#, "colour"),
        ("/team/new", #"{"max_budget":-5}"#, "max_budget"),
        ("/team/new", #"{"budget_duration":"forever"}"#, "budget_duration"),
        ("/team/new", #"{"members_with_roles":[{"role":"admin"}]}"#, "members_with_roles"),
        ("/team/update", #"{"max_budget":1}"#, "team_id"),
        ("/team/delete", #"{"team_ids":"x"}"#, "team_ids"),
        ("/key/generate", #"{"team_id":"no-such-team"}"#, "team_id"),
    ])
    func badTeamInputIsNamed(path: String, body: String, param: String) async throws {
        try await Harness.with(config: e2eConfig) { h in
            let reply = try await h.send(path, json: body)
            #expect(reply.status == 400 && reply.json?["error"]?["param"]?.stringValue == param, "\(reply.text)")
        }
    }
}
