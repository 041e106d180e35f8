import AsyncHTTPClient
import Foundation
import GatewayTesting
import NIOCore
import Store
import Telemetry
import Testing

@testable import Proxy
@testable import Sinks

@Suite(.serialized, .timeLimit(.minutes(3))) struct OrganizationTests {
    static let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#

    @Test func anOrganizationsLimitsBindEveryKeyOfItsTeams() async throws {
        // A stopped clock: all four requests fall in one rate-limit minute whenever the test runs.
        try await Harness.with(config: e2eConfig, clock: TestTime.clock(secondsIntoMinute: 15)) { h in
            // Three requests a minute: the refused one below counts too (limits are checked from
            // the headers, before the body names a model).
            let org = try await h.send(
                "/organization/new",
                json: #"{"organization_id":"acme","organization_alias":"Acme","models":["local"],"rpm_limit":3}"#)
            #expect(org.status == 200 && org.json?["organization_alias"] == "Acme")
            #expect(try await h.send("/team/new", json: #"{"team_id":"t1","organization_id":"acme"}"#).status == 200)
            #expect(try await h.send("/team/new", json: #"{"team_id":"t2","organization_id":"acme"}"#).status == 200)
            let a = try await h.newKey(#"{"team_id":"t1"}"#)
            let b = try await h.newKey(#"{"team_id":"t2"}"#)
            let denied = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, key: a)
            #expect(denied.json?["error"]?["message"] == "This organization may not use the model 'gpt-4o-mini'.")
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: a).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: b).status == 200)
            let limited = try await h.send("/v1/chat/completions", json: Self.body, key: a)
            #expect(
                limited.status == 429
                    && limited.json?["error"]?["message"] == "This organization is limited to 3 requests per minute.")
            let info = try await h.send("/organization/info?organization_id=acme").json
            #expect(info?["spend"]?.doubleValue ?? 0 > 0 && info?["teams"]?.arrayValue?.count == 2)
            #expect(limited.headers.first(name: "retry-after") == "45")
            // Team t1's key answered one request; every row of the team names the organisation.
            let rows = try await h.store.spendLogs(SpendQuery(teamID: "t1"))
            #expect(rows.filter { $0.statusCode == 200 }.count == 1)
            #expect(!rows.isEmpty && rows.allSatisfy { $0.orgID == "acme" })
        }
    }

    @Test func updateDeleteListAndBadInput() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(
                try await h.send("/organization/new", json: #"{"organization_id":"o","organization_alias":"O"}"#).status == 200)
            #expect(
                try await h.send("/organization/new", json: #"{"organization_id":"o","organization_alias":"O"}"#).status == 400)
            #expect(
                try await h.send("/organization/new", json: #"{"max_budget":5}"#).json?["error"]?["param"] == "organization_alias"
            )
            #expect(
                try await h.send("/organization/new", json: #"{"organization_alias":"x","seats":3}"#).json?["error"]?["param"]
                    == "seats")
            #expect(
                try await h.send("/team/new", json: #"{"organization_id":"nope"}"#).json?["error"]?["param"] == "organization_id")

            // LiteLLM's methods: PATCH to update, DELETE to delete.
            var patch = HTTPClientRequest(url: h.gatewayURL + "/organization/update")
            patch.method = .PATCH
            patch.headers.add(name: "authorization", value: "Bearer \(Harness.master)")
            patch.body = .bytes(ByteBuffer(string: #"{"organization_id":"o","max_budget":9}"#))
            let patched = try await h.client.execute(patch, timeout: .seconds(10))
            #expect(patched.status == .ok)
            #expect(try await h.send("/organization/list").json?.arrayValue?.first?["max_budget"]?.doubleValue == 9)

            #expect(try await h.send("/team/new", json: #"{"team_id":"t","organization_id":"o"}"#).status == 200)
            let key = try await h.newKey(#"{"team_id":"t"}"#)
            var delete = HTTPClientRequest(url: h.gatewayURL + "/organization/delete")
            delete.method = .DELETE
            delete.headers.add(name: "authorization", value: "Bearer \(Harness.master)")
            delete.body = .bytes(ByteBuffer(string: #"{"organization_ids":["o"]}"#))
            #expect(try await h.client.execute(delete, timeout: .seconds(10)).status == .ok)
            #expect(try await h.send("/team/info?team_id=t").status == 404)
            #expect(try await h.send("/v1/chat/completions", json: Self.body, key: key).status == 401)
            #expect(try await h.send("/organization/info?organization_id=o").status == 404)
        }
    }
}
