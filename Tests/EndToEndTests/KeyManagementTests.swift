import Foundation
import Store
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy
@testable import Sinks

@Suite(.serialized, .timeLimit(.minutes(3))) struct KeyManagementTests {
    func generate(_ h: Harness, _ body: String) async throws -> (key: String, token: String) {
        let reply = try await h.send("/key/generate", json: body)
        #expect(reply.status == 200, "\(reply.text)")
        let key = try #require(reply.json?["key"]?.stringValue)
        let token = try #require(reply.json?["token"]?.stringValue)
        return (key, token)
    }

    @Test func generatedKeysWorkAndAreKeptOnlyAsDigests() async throws {
        try await Harness.with(config: e2eConfig) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"team-a"}"#).status == 200)
            let reply = try await h.send(
                "/key/generate",
                json:
                    #"{"key_alias":"billing-app","team_id":"team-a","user_id":"u1","models":["gpt-4o-mini","local"],"metadata":{"env":"prod"},"max_budget":5}"#
            )
            let info = try #require(reply.json)
            let key = try #require(info["key"]?.stringValue)
            #expect(key.hasPrefix("sk-") && key.count == 35)
            #expect(info["token"]?.stringValue == KeyDigest(key: key).hex)
            #expect(info["key_name"]?.stringValue == "sk-...\(key.suffix(4))")
            #expect(info["models"] == .array(["gpt-4o-mini", "local"]) && info["metadata"]?["env"] == "prod")

            let chat = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, key: key)
            #expect(chat.status == 200)
            let row = try #require(try await h.store.spendLogs(SpendQuery(keyHash: KeyDigest(key: key).hex)).first)
            #expect(row.keyAlias == "billing-app" && row.teamID == "team-a" && row.userID == "u1")
            #expect(try await h.store.fetch(VirtualKey.self, id: KeyDigest(key: key).hex)?.limits.spend == row.spend)
            #expect(try await h.send("/key/info?key=\(key)").json?["info"]?["spend"]?.doubleValue == row.spend)
            #expect(try await h.send("/key/info?key=\(KeyDigest(key: key).hex)").json?["info"]?["key_alias"] == "billing-app")

            // The models a key lists are all it may use; /models shows only those.
            let denied = try await h.send("/v1/embeddings", json: #"{"model":"embedder","input":"x"}"#, key: key)
            #expect(denied.status == 403 && denied.json?["error"]?["code"] == "model_not_allowed")
            let models = try await h.send("/v1/models", key: key).json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            #expect(models == ["gpt-4o-mini", "local"])

            try await h.eventually("spans and metrics carry the key's alias and team") {
                h.receiver.spans.contains {
                    $0[attribute: "spanway.key.alias"]?.stringValue == "billing-app"
                        && $0[attribute: "spanway.team.id"]?.stringValue == "team-a"
                }
            }
            let metrics = try await h.metrics()
            #expect(
                metrics.split(separator: "\n").contains {
                    $0.contains(#"team="team-a""#) && $0.contains(#"key_alias="billing-app""#)
                })
            // The raw key is nowhere: not in metrics, spans, nor the database files.
            #expect(!metrics.contains(key))
            #expect(!h.receiver.exports.withLock { $0.map { "\($0.request)" }.joined() }.contains(key))
            let database = await h.store.path
            let journal = database + ".spend-journal"
            let segments = try FileManager.default.contentsOfDirectory(atPath: journal).map { journal + "/" + $0 }
            #expect(!segments.isEmpty, "the spend journal holds the rows")
            for file in [database, database + "-wal"] + segments {
                let bytes = FileManager.default.contents(atPath: file) ?? Data()
                #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file)")
            }
        }
    }

    @Test func blockedExpiredDeletedAndOverBudgetKeysAreRefused() async throws {
        // Expiry is read against the gateway's clock: moved on by hand, not waited for.
        let clock = ManualClock(seconds: Date().timeIntervalSince1970)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#
            let (key, token) = try await generate(h, #"{"key_alias":"a"}"#)
            #expect(try await h.send("/key/update", json: #"{"key":"\#(key)","blocked":true}"#).json?["blocked"] == true)
            let blocked = try await h.send("/v1/chat/completions", json: body, key: key)
            #expect(blocked.status == 401 && blocked.json?["error"]?["message"] == "This API key is blocked.")
            _ = try await h.send("/key/update", json: #"{"key":"\#(token)","blocked":false}"#)
            #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 200)

            let (budgeted, _) = try await generate(h, #"{"max_budget":0.0000001}"#)
            #expect(try await h.send("/v1/chat/completions", json: body, key: budgeted).status == 200)
            let over = try await h.send("/v1/chat/completions", json: body, key: budgeted)
            #expect(over.status == 422 && over.json?["error"]?["type"] == "budget_exceeded")

            let (short, _) = try await generate(h, #"{"duration":"1s"}"#)
            #expect(try await h.send("/v1/chat/completions", json: body, key: short).status == 200)
            clock.advance(by: .seconds(1))
            let expired = try await h.send("/v1/chat/completions", json: body, key: short)
            #expect(expired.status == 401 && expired.json?["error"]?["message"] == "This API key has expired.")

            let deleted = try await h.send("/key/delete", json: #"{"keys":["\#(key)"]}"#)
            #expect(deleted.json?["deleted_keys"] == .array([.string(token)]))
            #expect(try await h.send("/v1/chat/completions", json: body, key: key).status == 401)
            #expect(try await h.send("/key/delete", json: #"{"keys":["\#(key)"]}"#).status == 404)
        }
    }

    @Test func regenerateWithAndWithoutGracePeriod() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let body = #"{"model":"local","messages":[{"role":"user","content":"x"}]}"#
            let (old, oldToken) = try await generate(h, #"{"key_alias":"svc","models":["local"]}"#)
            let graced = try await h.send("/key/regenerate", json: #"{"key":"\#(old)","grace_period":"1h"}"#)
            let new = try #require(graced.json?["key"]?.stringValue)
            #expect(new != old && graced.json?["key_alias"] == "svc" && graced.json?["replaced_token"]?.stringValue == oldToken)
            #expect(graced.json?["models"] == .array(["local"]))
            // Both work during the grace period.
            #expect(try await h.send("/v1/chat/completions", json: body, key: old).status == 200)
            #expect(try await h.send("/v1/chat/completions", json: body, key: new).status == 200)
            // Without one, the replaced key stops at once.
            let immediate = try await h.send("/key/regenerate", json: #"{"key":"\#(new)"}"#)
            let newest = try #require(immediate.json?["key"]?.stringValue)
            #expect(try await h.send("/v1/chat/completions", json: body, key: new).status == 401)
            #expect(try await h.send("/v1/chat/completions", json: body, key: newest).status == 200)
            #expect(
                try await h.send("/key/regenerate", json: #"{"key":"\#(newest)","grace_period":"later"}"#).json?["error"]?[
                    "param"] == "grace_period")
            #expect(try await h.send("/key/regenerate", json: #"{"key":"sk-never-existed-000000"}"#).status == 404)
        }
    }

    /// A key kept for its grace period after `/key/regenerate` leaves its alias to the new key:
    /// the new key can be updated by token or by alias, and an alias is checked only when it
    /// changes (LiteLLM 1.108.7 `_enforce_unique_key_alias`, its replaced keys kept apart in a
    /// deprecated-keys table); an expired key holds no alias.
    @Test func anAliasLeftByARegeneratedOrExpiredKeyDoesNotBlockUpdates() async throws {
        let clock = ManualClock(seconds: Date().timeIntervalSince1970)
        try await Harness.with(config: e2eConfig, clock: clock) { h in
            let (old, _) = try await generate(h, #"{"key_alias":"svc"}"#)
            let graced = try await h.send("/key/regenerate", json: #"{"key":"\#(old)","grace_period":"1h"}"#)
            let new = try #require(graced.json?["key"]?.stringValue)
            let newToken = try #require(graced.json?["token"]?.stringValue)
            let byKey = try await h.send("/key/update", json: #"{"key":"\#(new)","max_budget":5}"#)
            #expect(byKey.status == 200 && byKey.json?["max_budget"]?.doubleValue == 5, "\(byKey.text)")
            let sameAlias = try await h.send("/key/update", json: #"{"key":"\#(new)","key_alias":"svc","max_budget":6}"#)
            #expect(sameAlias.status == 200, "\(sameAlias.text)")
            let byAlias = try await h.send("/key/update", json: #"{"key_alias":"svc","max_budget":7}"#)
            #expect(byAlias.status == 200 && byAlias.json?["token"]?.stringValue == newToken, "\(byAlias.text)")
            #expect(try await h.send("/key/info?key=\(new)").json?["info"]?["max_budget"]?.doubleValue == 7)
            // The old key still works and kept its settings.
            #expect(try await h.send("/key/info?key=\(old)").json?["info"]?["max_budget"] == .null)
            // Taking a live key's alias is still refused.
            let (other, _) = try await generate(h, #"{"key_alias":"other"}"#)
            let taken = try await h.send("/key/update", json: #"{"key":"\#(other)","key_alias":"svc"}"#)
            #expect(taken.status == 400 && taken.json?["error"]?["param"] == "key_alias")

            // An expired key holds no alias: a new key may take it, and the alias names the new key.
            let (short, _) = try await generate(h, #"{"key_alias":"brief","duration":"1m"}"#)
            clock.advance(by: .seconds(120))
            let (successor, successorToken) = try await generate(h, #"{"key_alias":"brief"}"#)
            #expect(!successor.isEmpty)
            let resolved = try await h.send("/key/update", json: #"{"key_alias":"brief","max_budget":3}"#)
            #expect(resolved.status == 200 && resolved.json?["token"]?.stringValue == successorToken, "\(resolved.text)")
        }
    }

    @Test func aliasesRouteThisKeysNamesToOtherGroups() async throws {
        try await Harness.with(config: e2eConfig) { h in
            let (key, _) = try await generate(h, #"{"aliases":{"gpt-4":"local"},"models":["local"]}"#)
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}"#, key: key)
            #expect(reply.status == 200 && reply.headers.first(name: "x-spanway-model-group") == "local")
            #expect(
                try await h.send("/v1/chat/completions", json: #"{"model":"gpt-4","messages":[{"role":"user"}]}"#).status == 404)
        }
    }

    @Test(arguments: [
        (#"{"colour":"red"}"#, "colour", "Unknown field 'colour'."),
        (#"{"max_budget":-1}"#, "max_budget", "'max_budget' must not be negative."),
        (
            #"{"budget_duration":"soon"}"#, "budget_duration",
            "'budget_duration' must be a duration like 30s, 15m, 1h, 1d, 30d or 1mo."
        ),
        (#"{"duration":"0d"}"#, "duration", "'duration' must be a duration like 30s, 15m, 1h, 1d, 30d or 1mo."),
        (#"{"models":"gpt-4o"}"#, "models", "'models' must be an array of strings, found string."),
        (#"{"rpm_limit":1.5}"#, "rpm_limit", "'rpm_limit' must be an integer, found number."),
        // LiteLLM 1.108.7's custom-key rule and words (`key_management_endpoints.py`).
        (#"{"key":"not-sk"}"#, "key", "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ****"),
    ])
    func badGenerateInputIsNamed(body: String, param: String, message: String) async throws {
        try await Harness.with(config: e2eConfig) { h in
            let reply = try await h.send("/key/generate", json: body)
            #expect(reply.status == 400, "\(reply.text)")
            #expect(
                reply.json?["error"]?["param"]?.stringValue == param && reply.json?["error"]?["message"]?.stringValue == message)
        }
    }

    @Test func adminNeedsTheMasterKeyAndListsPages() async throws {
        try await Harness.with(config: e2eConfig) { h in
            for team in ["t0", "t1"] { #expect(try await h.send("/team/new", json: #"{"team_id":"\#(team)"}"#).status == 200) }
            var tokens: [String] = []
            for i in 0..<3 { tokens.append(try await generate(h, #"{"team_id":"t\#(i % 2)"}"#).token) }
            let (key, _) = try await generate(h, "{}")
            #expect(try await h.send("/key/list", key: key).status == 403)
            #expect(try await h.send("/key/list", key: nil).status == 401)
            #expect(try await h.send("/key/generate", json: "{}", key: "sk-unknown-key-000000000").status == 401)
            let page = try await h.send("/key/list?page=2&size=2").json
            #expect(
                page?["total_count"]?.intValue == 4 && page?["total_pages"]?.intValue == 2 && page?["current_page"]?.intValue == 2
            )
            #expect(page?["keys"]?.arrayValue?.count == 2)
            let team = try await h.send("/key/list?team_id=t0&return_full_object=true").json
            #expect(
                team?["keys"]?.arrayValue?.compactMap { $0["token"]?.stringValue }.sorted() == [tokens[0], tokens[2]].sorted())
            #expect(try await h.send("/key/list?size=0").status == 400)
            #expect(try await h.send("/key/info?key=nope").status == 404)
            #expect(try await h.send("/key/info").json?["error"]?["param"] == "key")
            #expect(try await h.send("/key/update", json: #"{"blocked":true}"#).json?["error"]?["param"] == "key")
            #expect(try await h.send("/key/delete", json: #"{"keys":[],"x":1}"#).status == 400)
        }
    }
}
