import Foundation
import GatewayTesting
import NIOCore
import Store
import Telemetry
import Testing

@testable import OTLPProto
@testable import Proxy

/// Issue 18, the request side of a LiteLLM drop-in: `fallbacks` in LiteLLM's config form, a
/// comma-separated `model` fanned out to each model, budget refusals in LiteLLM's words, and the
/// `x-litellm-timeout` header. Expected shapes, words and statuses are litellm 1.108.7's
/// (`router_utils/fallback_event_handlers.py`, `proxy/route_llm_request.py`, `router.py`
/// `abatch_completion`, `proxy/auth/auth_checks.py`, `exceptions.py`).
@Suite(.serialized, .timeLimit(.minutes(3))) struct LiteLLMRequestCompatTests {
    static let config = """
        model_list:
          - model_name: flaky
            litellm_params: {model: mock/error-500}
          - model_name: backup
            litellm_params: {model: mock/gpt-4o-mini}
          - model_name: alpha
            litellm_params: {model: mock/alpha-model, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
          - model_name: beta
            litellm_params: {model: mock/beta-model, input_cost_per_token: 0.003, output_cost_per_token: 0.004}
          - model_name: "odd,name"
            litellm_params: {model: mock/odd-model}
          - model_name: hang
            litellm_params: {model: mock/slow-600000}
        router_settings: {num_retries: 0, allowed_fails: 1000}
        general_settings: {master_key: \(Harness.master)}
        """

    static func body(_ model: String, _ extra: String = "") -> String {
        #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]\#(extra)}"#
    }

    func ask(_ h: Harness, _ model: String, _ extra: String = "", key: String = Harness.master) async throws -> Harness.Reply {
        try await h.send("/v1/chat/completions", json: Self.body(model, extra), key: key)
    }

    // MARK: fallbacks

    /// LiteLLM's config form per request: only the entry keyed by the requested group applies,
    /// `*` when none is; with neither, the request's fallbacks still replace the config's.
    @Test func fallbacksInLiteLLMsDictForm() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let keyed = try await ask(h, "flaky", #","fallbacks":[{"other":["alpha"]},{"flaky":["backup"]}]"#)
            #expect(keyed.status == 200, "\(keyed.text)")
            #expect(keyed.headers.first(name: "x-spanway-model-group") == "backup")

            let star = try await ask(h, "flaky", #","fallbacks":[{"*":["alpha"]}]"#)
            #expect(star.status == 200 && star.headers.first(name: "x-spanway-model-group") == "alpha")

            // An exact entry wins over `*`, whatever the order.
            let both = try await ask(h, "flaky", #","fallbacks":[{"*":["alpha"]},{"flaky":["backup"]}]"#)
            #expect(both.headers.first(name: "x-spanway-model-group") == "backup")

            // Another group's entry only: no fallback at all, the upstream's 500 comes back.
            let unkeyed = try await ask(h, "flaky", #","fallbacks":[{"alpha":["backup"]}]"#)
            #expect(unkeyed.status == 500, "\(unkeyed.text)")
            #expect(unkeyed.headers.first(name: "x-spanway-model-group") == "flaky")

            // The list form still works.
            let list = try await ask(h, "flaky", #","fallbacks":["backup"]"#)
            #expect(list.status == 200 && list.headers.first(name: "x-spanway-model-group") == "backup")
        }
    }

    /// A group in the dict form is checked against the key like any requested model.
    @Test func dictFormFallbacksNeverWidenWhatAKeyReaches() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let key = try await h.newKey(#"{"models":["flaky"]}"#)
            let refused = try await ask(h, "flaky", #","fallbacks":[{"flaky":["backup"]}]"#, key: key)
            #expect(refused.status == 403 && refused.json?["error"]?["param"] == "fallbacks", "\(refused.text)")
            #expect(h.upstream.count == 0)
        }
    }

    @Test func hostileFallbackShapesAre400NamingTheField() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            for shape in [
                #"{"flaky":["backup"]}"#, #"[{"flaky":"backup"}]"#, #"[{"flaky":["backup"],"alpha":["beta"]}]"#, "[1]",
                #"[["backup"]]"#, #"["backup",{"flaky":["alpha"]}]"#, #"[{"flaky":["alpha"]},{"flaky":["beta"]}]"#, "[{}]",
                #"[{"flaky":[1]}]"#, #""backup""#,
            ] {
                let reply = try await ask(h, "flaky", #","fallbacks":"# + shape)
                #expect(reply.status == 400, "\(shape): \(reply.text)")
                #expect(reply.json?["error"]?["param"] == "fallbacks", "\(shape)")
                #expect(reply.json?["error"]?["type"] == "invalid_request_error", "\(shape)")
            }
            #expect(h.upstream.count == 0, "nothing malformed reaches a provider")
        }
    }

    /// The OpenAI Python SDK sends both forms through `extra_body`.
    @Test(.enabled(if: PythonSDKTests.hasOpenAI, "needs python3 with the openai package (pip install openai)"))
    func openAISDKSendsBothFallbackForms() async throws {
        let script = #"""
            import sys, openai
            base, key = sys.argv[1], sys.argv[2]
            client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
            messages = [{"role": "user", "content": "hi"}]
            for fallbacks, group in (([{"flaky": ["backup"]}], "backup"), (["alpha"], "alpha")):
                raw = client.chat.completions.with_raw_response.create(
                    model="flaky", messages=messages, extra_body={"fallbacks": fallbacks})
                assert raw.headers["x-litellm-model-group"] == group, raw.headers
                assert raw.parse().choices[0].message.content, raw
            print("ok fallbacks")
            try:
                client.chat.completions.create(model="flaky", messages=messages, extra_body={"fallbacks": {"flaky": ["backup"]}})
                sys.exit("a bad fallbacks shape was answered")
            except openai.BadRequestError as error:
                assert error.body["param"] == "fallbacks", error.body
            print("ok refused")
            try:
                client.chat.completions.create(model="hang", messages=messages, extra_headers={"x-litellm-timeout": "0.2"})
                sys.exit("a hanging upstream did not raise")
            except openai.APIStatusError as error:
                assert error.status_code == 408, error
                assert error.response.headers["x-litellm-timeout"] == "0.2", error.response.headers
            print("ok timeout header")
            """#
        try await Harness.with(config: Self.config, otlp: false) { h in
            let (status, output) = try await PythonSDKTests.runPython(script, [h.gatewayURL, Harness.master])
            #expect(status == 0, "\(output)")
            for line in ["ok fallbacks", "ok refused", "ok timeout header"] { #expect(output.contains(line), "\(output)") }
        }
    }

    // MARK: comma-separated models

    /// LiteLLM's `abatch_completion`: one completion per model, in the order named, as a JSON
    /// list; each model a request of its own (upstream call, span, ledger row with its cost).
    @Test func aCommaSeparatedModelAnswersWithTheListOfAnswers() async throws {
        try await Harness.with(config: Self.config) { h in
            let key = try await h.newKey(#"{"key_alias":"fan"}"#)
            let reply = try await ask(h, "alpha, beta", key: key)
            #expect(reply.status == 200, "\(reply.text)")
            let answers = try #require(reply.json?.arrayValue, "\(reply.text)")
            #expect(answers.count == 2)
            #expect(
                answers.allSatisfy {
                    $0["object"] == "chat.completion" && $0["choices"]?.arrayValue?.first?["message"]?["content"] != nil
                })
            // In the order named: each answer is its own model's.
            #expect(answers[0]["model"]?.stringValue?.contains("alpha") == true, "\(reply.text)")
            #expect(answers[1]["model"]?.stringValue?.contains("beta") == true, "\(reply.text)")
            let upstreamModels = h.upstream.requests.withLock {
                $0.compactMap { try? JSONParser.parse($0.body)["model"]?.stringValue }
            }
            #expect(upstreamModels.sorted() == ["alpha-model", "beta-model"])

            // Each answer is priced at its own model's prices; the header sums them.
            func cost(_ answer: JSONValue, input: Double, output: Double) -> Double {
                Double(answer["usage"]?["prompt_tokens"]?.intValue ?? -1) * input
                    + Double(answer["usage"]?["completion_tokens"]?.intValue ?? -1) * output
            }
            let expected = cost(answers[0], input: 0.001, output: 0.002) + cost(answers[1], input: 0.003, output: 0.004)
            let header = try #require(reply.headers.first(name: "x-spanway-response-cost").flatMap(Double.init))
            #expect(abs(header - expected) < 1e-9)
            #expect(reply.headers.first(name: "x-spanway-model-group") == "alpha, beta")

            try await h.eventually("two ledger rows") { try await h.store.spendLogs(SpendQuery()).count == 2 }
            let rows = try await h.store.spendLogs(SpendQuery())
            #expect(Set(rows.map(\.modelGroup)) == ["alpha", "beta"])
            #expect(rows.allSatisfy { $0.keyAlias == "fan" && $0.statusCode == 200 })
            try await h.eventually("two request spans") {
                h.receiver.spans.filter {
                    $0.kind == .server && $0[attribute: "http.route"]?.stringValue == "/v1/chat/completions"
                }
                .count == 2
            }
        }
    }

    /// A failing model's error stands in its place; the others are still answered (LiteLLM
    /// returns the exception in the list, and the list with 200).
    @Test func aFailingModelsErrorStandsInItsPlace() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let reply = try await ask(h, "flaky,alpha")
            #expect(reply.status == 200, "\(reply.text)")
            let answers = try #require(reply.json?.arrayValue)
            #expect(answers.count == 2)
            #expect(answers[0]["error"]?["message"]?.stringValue != nil, "\(reply.text)")
            #expect(answers[1]["object"] == "chat.completion")
        }
    }

    /// LiteLLM checks every named model at authentication: one the key may not use refuses it all.
    @Test func aModelTheKeyMayNotUseRefusesTheWholeRequest() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let key = try await h.newKey(#"{"models":["alpha"]}"#)
            let reply = try await ask(h, "alpha,beta", key: key)
            #expect(reply.status == 403, "\(reply.text)")
            #expect(reply.json?["error"]?["param"] == "model")
            #expect(h.upstream.count == 0)
        }
    }

    /// LiteLLM's proxy cannot stream a list; Spanway says so. An empty name, or too many, is refused.
    @Test func commaModelsAreNotStreamedAndMustBeNamed() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let stream = try await ask(h, "alpha,beta", #","stream":true"#)
            #expect(stream.status == 400 && stream.json?["error"]?["param"] == "stream", "\(stream.text)")
            let empty = try await ask(h, "alpha,")
            #expect(empty.status == 400 && empty.json?["error"]?["param"] == "model", "\(empty.text)")
            let many = try await ask(h, Array(repeating: "alpha", count: 17).joined(separator: ","))
            #expect(many.status == 400 && many.json?["error"]?["param"] == "model", "\(many.text)")
            #expect(h.upstream.count == 0)
        }
    }

    /// A configured model whose name holds a comma is one model, answered with one object.
    @Test func aModelNameWithACommaIsStillOneModel() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let reply = try await ask(h, "odd,name")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.json?["object"] == "chat.completion")
            #expect(reply.headers.first(name: "x-spanway-model-group") == "odd,name")
            #expect(h.upstream.count == 1)
            // So is a key's alias with a comma in it.
            let key = try await h.newKey(#"{"aliases":{"cheap,fast":"backup"}}"#)
            let aliased = try await ask(h, "cheap,fast", key: key)
            #expect(aliased.status == 200 && aliased.json?["object"] == "chat.completion", "\(aliased.text)")
            #expect(aliased.headers.first(name: "x-spanway-model-group") == "backup")
        }
    }

    @Test func theScanFindsOnlyAModelMemberWithAComma() {
        func scan(_ text: String) -> Bool {
            let buffer = NIOCore.ByteBuffer(string: text)
            return ModelFanOut.mayNameSeveralModels(buffer.readableBytesView)
        }
        #expect(scan(#"{"model" : "a,b"}"#))
        #expect(scan(#"{"messages":[],"model":"a\"x,b"}"#))
        #expect(!scan(#"{"model":"a","messages":[{"role":"user","content":"\"model\": \"x,y\""}]}"#))
        #expect(!scan(#"{"role":"model","text":"a,b"}"#))
        #expect(!scan(#"{"model":"gpt-4o"}"#))
    }

    // MARK: budgets

    /// Every budget refusal in litellm 1.108.7's words (`auth_checks.py`), with its status (422,
    /// `litellm.budget_exceeded_status_code`) and type (`budget_exceeded`) in OpenAI's error shape.
    @Test func budgetRefusalsInLiteLLMsWords() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            func refusal(_ key: String) async throws -> (status: Int, message: String, error: JSONValue?) {
                // The first request spends the budget (or is refused at once when it was 0).
                _ = try await ask(h, "backup", key: key)
                let reply = try await ask(h, "backup", key: key)
                return (reply.status, reply.json?["error"]?["message"]?.stringValue ?? reply.text, reply.json?["error"])
            }
            // Key, with an alias: `Key=<alias> (sk-...wxyz)`.
            let aliased = try await h.newKey(#"{"key_alias":"tiny","max_budget":0}"#)
            let key = try await refusal(aliased)
            #expect(key.status == 422)
            #expect(
                key.message
                    == "Budget has been exceeded! Key=tiny (sk-...\(aliased.suffix(4))) Current cost: 0.0, Max budget: 0.0")
            #expect(key.error?["type"] == "budget_exceeded" && key.error?["param"] == .null)
            // Key without an alias: `Key=key (sk-...wxyz)`.
            let plain = try await h.newKey(#"{"max_budget":0}"#)
            #expect(
                try await refusal(plain).message
                    == "Budget has been exceeded! Key=key (sk-...\(plain.suffix(4))) Current cost: 0.0, Max budget: 0.0")
            // Team.
            #expect(try await h.send("/team/new", json: #"{"team_id":"tb","max_budget":0}"#).status == 200)
            let teamKey = try await h.newKey(#"{"team_id":"tb"}"#)
            #expect(try await refusal(teamKey).message == "Budget has been exceeded! Team=tb Current cost: 0.0, Max budget: 0.0")
            // User: LiteLLM's other form.
            #expect(try await h.send("/user/new", json: #"{"user_id":"ub","max_budget":0}"#).status == 200)
            let userKey = try await h.newKey(#"{"user_id":"ub"}"#)
            #expect(try await refusal(userKey).message == "ExceededBudget: User=ub over budget. Spend=0.0, Budget=0.0")
            // Organization, through its team.
            #expect(
                try await h.send("/organization/new", json: #"{"organization_id":"ob","organization_alias":"OB","max_budget":0}"#)
                    .status == 200)
            #expect(try await h.send("/team/new", json: #"{"team_id":"to","organization_id":"ob"}"#).status == 200)
            let orgKey = try await h.newKey(#"{"team_id":"to"}"#)
            let org = try await refusal(orgKey)
            #expect(
                org.status == 422 && org.message == "Budget has been exceeded! Organization=ob Current cost: 0.0, Max budget: 0.0"
            )
            // End user (the request's `user`): LiteLLM's `ExceededBudget: End User=` form.
            #expect(try await h.send("/end_user/new", json: #"{"user_id":"eb","max_budget":0}"#).status == 200)
            let endUser = try await ask(h, "backup", #","user":"eb""#, key: try await h.newKey())
            #expect(endUser.status == 422, "\(endUser.text)")
            #expect(
                endUser.json?["error"]?["message"]?.stringValue
                    == "ExceededBudget: End User=eb over budget. Spend=0.0, Budget=0.0")
            #expect(h.upstream.count == 0, "no spent budget reaches a provider")
        }
    }

    /// The proxy-wide budget (`litellm_settings.max_budget`) in LiteLLM's default words, and the
    /// status `budget_exceeded_status_code` sets.
    @Test func theProxyBudgetInLiteLLMsWords() async throws {
        let config = Self.config + "\nlitellm_settings: {max_budget: 0.0000001, budget_exceeded_status_code: 429}"
        try await Harness.with(config: config, otlp: false) { h in
            _ = try await ask(h, "alpha")
            let reply = try await ask(h, "alpha")
            #expect(reply.status == 429 && reply.json?["error"]?["type"] == "budget_exceeded", "\(reply.text)")
            let message = reply.json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("Budget has been exceeded! Current cost: ") && message.hasSuffix(", Max budget: 1e-07"))
            // A spent budget refuses a comma-separated request whole, as LiteLLM's authentication does.
            let fanned = try await ask(h, "alpha,beta")
            #expect(fanned.status == 429 && fanned.json?["error"]?["type"] == "budget_exceeded", "\(fanned.text)")
        }
    }

    /// LiteLLM echoes a key's name only while it has the masked form (`_MASKED_KEY_NAME_RE`).
    @Test func aKeyIsNamedByItsMaskedNameOnly() {
        #expect(BudgetGuard.keyDescriptor(alias: "a", keyName: "sk-...wxyz") == "a (sk-...wxyz)")
        #expect(BudgetGuard.keyDescriptor(alias: nil, keyName: "sk-...") == "key (sk-...)")
        #expect(BudgetGuard.keyDescriptor(alias: nil, keyName: "sk-live-full-secret") == "key")
        #expect(BudgetGuard.keyDescriptor(alias: "a", keyName: "sk-...w yz") == "a")
        #expect(BudgetGuard.keyDescriptor(alias: "a", keyName: "sk-...wxyz0") == "a")
    }

    // MARK: x-litellm-timeout

    /// Seconds as a float; anything else is a 400 naming the header, before any upstream call.
    @Test func theTimeoutHeaderIsHonouredAndChecked() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            let bounded = try await h.send(
                "/v1/chat/completions", json: Self.body("hang"), headers: [("x-litellm-timeout", "0.25")])
            #expect(bounded.status == 408, "\(bounded.text)")
            #expect(bounded.headers.first(name: "x-litellm-timeout") == "0.25")
            // The header wins over the body's `timeout`, as in LiteLLM.
            let header = try await h.send(
                "/v1/chat/completions", json: Self.body("hang", #","timeout":600"#), headers: [("x-litellm-timeout", "0.2")])
            #expect(header.status == 408 && header.headers.first(name: "x-litellm-timeout") == "0.2")
            let before = h.upstream.count
            for value in ["abc", "0", "-1", "1e9"] {
                let reply = try await h.send(
                    "/v1/chat/completions", json: Self.body("alpha"), headers: [("x-litellm-timeout", value)])
                #expect(reply.status == 400, "\(value): \(reply.text)")
                #expect(reply.json?["error"]?["param"] == "x-litellm-timeout", "\(value)")
            }
            #expect(h.upstream.count == before)
        }
    }
}
