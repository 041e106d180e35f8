import GatewayTesting
import Testing

/// `GET /v1/models/{id}`, which the OpenAI SDK's `models.retrieve` calls.
@Suite(.timeLimit(.minutes(3))) struct ModelsRouteTests {
    static let config = """
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: mock/gpt-4o-mini}
          - model_name: openai/gpt-4o
            litellm_params: {model: mock/gpt-4o}
        general_settings: {master_key: sk-e2e-master}
        """

    @Test func retrievesAConfiguredGroupByItsId() async throws {
        try await Harness.with(config: Self.config, otlp: false) { h in
            for prefix in ["/v1", ""] {
                let found = try await h.send("\(prefix)/models/gpt-4o-mini")
                #expect(found.status == 200)
                #expect(found.json?["id"]?.stringValue == "gpt-4o-mini" && found.json?["object"]?.stringValue == "model")
                #expect(found.json?["owned_by"]?.stringValue != nil && found.json?["created"]?.intValue != nil)
            }
            // An id with a slash, as LiteLLM-style group names often are.
            #expect(try await h.send("/v1/models/openai/gpt-4o").json?["id"]?.stringValue == "openai/gpt-4o")
            let missing = try await h.send("/v1/models/nope")
            #expect(missing.status == 404 && missing.json?["error"]?["code"]?.stringValue == "model_not_found")
            #expect(try await h.send("/v1/models/gpt-4o-mini", key: "sk-wrong").status == 401)
            // A key limited to some models does not learn of the others.
            let limited = try await h.newKey(#"{"models": ["gpt-4o-mini"]}"#)
            #expect(try await h.send("/v1/models/gpt-4o-mini", key: limited).status == 200)
            #expect(try await h.send("/v1/models/openai/gpt-4o", key: limited).status == 404)
        }
    }
}
