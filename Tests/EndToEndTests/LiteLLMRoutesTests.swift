import Foundation
import GatewayTesting
import Telemetry
import Testing

@testable import Proxy

/// Issue 18, LiteLLM's small admin routes: `/routes`, `/health/readiness/details`,
/// `/active/callbacks` and `/get/config/callbacks`, in litellm 1.108.7's shapes
/// (`proxy_server.py` `get_routes` and `get_config`, `common_utils/get_routes.py`,
/// `health_endpoints/_health_endpoints.py`), never showing a credential.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LiteLLMRoutesTests {
    static let config = """
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: mock/gpt-4o-mini}
        general_settings: {master_key: \(Harness.master), alerting: ["slack"]}
        litellm_settings:
          callbacks: ["otel", "prometheus"]
          success_callback: ["generic_api"]
          failure_callback: ["sentry"]
        """

    static let hookToken = "hook-secret-value"
    static let sentryKey = "sentrypublickey"
    static let slackToken = "T000/B000/slack-secret-token"
    static let env = [
        "GENERIC_LOGGER_ENDPOINT": "http://{hooks}/hook?token=query-secret-token",
        "GENERIC_LOGGER_HEADERS": "x-hook-token=\(hookToken)",
        "SENTRY_DSN": "http://\(sentryKey)@{hooks}/sentry/42",
        "SLACK_WEBHOOK_URL": "http://{hooks}/services/\(slackToken)",
    ]

    /// No credential of the config appears in an answer.
    static func expectNoSecret(_ reply: Harness.Reply) {
        for secret in [hookToken, sentryKey, slackToken, "query-secret-token", Harness.master] {
            #expect(!reply.text.contains(secret), "\(secret) leaked: \(reply.text)")
        }
    }

    /// `{"routes": [{path, methods, name, endpoint}]}`, open like LiteLLM's (one of its public
    /// routes), built from the routes the server really registered.
    @Test func routesListsTheServersRealRoutes() async throws {
        try await Harness.with(config: Self.config, environment: Self.env, otlp: false) { h in
            let reply = try await h.send("/routes", key: nil)
            #expect(reply.status == 200, "\(reply.text)")
            let routes = try #require(reply.json?["routes"]?.arrayValue)
            var methods: [String: [String]] = [:]
            for route in routes {
                let path = try #require(route["path"]?.stringValue)
                methods[path] = route["methods"]?.arrayValue?.compactMap(\.stringValue)
                #expect(route["name"]?.stringValue?.isEmpty == false && route["endpoint"]?.stringValue?.isEmpty == false)
            }
            for (path, expected) in [
                ("/v1/chat/completions", ["POST"]), ("/chat/completions", ["POST"]), ("/v1/models", ["GET"]),
                ("/key/generate", ["POST"]), ("/key/info", ["GET"]), ("/health/readiness", ["GET"]),
                ("/health/readiness/details", ["GET"]), ("/active/callbacks", ["GET"]), ("/get/config/callbacks", ["GET"]),
                ("/routes", ["GET"]), ("/metrics", ["GET"]), ("/team/{team_id}/callback", ["GET", "POST"]),
            ] {
                #expect(methods[path] == expected, "\(path): \(methods[path] ?? [])")
            }
            #expect(methods["/no/such/route"] == nil)
            // Every listed GET without a parameter is really served: never the router's 404.
            for (path, verbs) in methods where verbs.contains("GET") && !path.contains("{") {
                let answer = try await h.send(path, key: nil)
                #expect(!answer.text.contains("No route for"), "\(path) is listed but not served")
            }
        }
    }

    /// `/health/readiness` plus `cache`, `litellm_version` and `success_callbacks`, with the master key.
    @Test func readinessDetailsNeedTheMasterKey() async throws {
        try await Harness.with(config: Self.config, environment: Self.env, otlp: false) { h in
            #expect(try await h.send("/health/readiness/details", key: nil).status == 401)
            let key = try await h.newKey()
            #expect(try await h.send("/health/readiness/details", key: key).status == 403)
            let reply = try await h.send("/health/readiness/details")
            #expect(reply.status == 200, "\(reply.text)")
            let body = try #require(reply.json)
            #expect(body["status"] == "healthy" && body["db"] == "connected")
            #expect(body["cache"] == .null)
            #expect(body["litellm_version"]?.stringValue == GatewayBootstrap.version)
            #expect(body["success_callbacks"]?.arrayValue?.compactMap(\.stringValue) == ["generic_api", "otel", "prometheus"])
            #expect(body["sinks"]?.arrayValue != nil, "the readiness fields are all there")
            Self.expectNoSecret(reply)
        }
    }

    /// LiteLLM's `active_callbacks` keys, valued from the config's three lists.
    @Test func activeCallbacksInLiteLLMsShape() async throws {
        try await Harness.with(config: Self.config, environment: Self.env, otlp: false) { h in
            #expect(try await h.send("/active/callbacks", key: nil).status == 401)
            let reply = try await h.send("/active/callbacks")
            #expect(reply.status == 200, "\(reply.text)")
            let body = try #require(reply.json)
            func names(_ key: String) -> [String]? { body[key]?.arrayValue?.compactMap(\.stringValue) }
            #expect(names("litellm.callbacks") == ["otel", "prometheus"])
            #expect(names("litellm.success_callback") == ["generic_api"])
            #expect(names("litellm.failure_callback") == ["sentry"])
            for empty in [
                "litellm.input_callback", "litellm._async_success_callback", "litellm._async_failure_callback",
                "litellm._async_input_callback",
            ] {
                #expect(names(empty) == [], "\(empty)")
            }
            #expect(Set(names("all_litellm_callbacks") ?? []) == ["otel", "prometheus", "generic_api", "sentry"])
            #expect(body["num_callbacks"]?.intValue == 4)
            #expect(body["alerting"] == "['slack']" && body["num_alerting"]?.intValue == 1)
            // LiteLLM's default `request_timeout`.
            #expect(body["litellm.request_timeout"]?.doubleValue == 6000)
            Self.expectNoSecret(reply)
        }
    }

    /// LiteLLM's `get_config`: each callback with its variables and list type, the alerting
    /// destinations, masked.
    @Test func configCallbacksInLiteLLMsShapeAndMasked() async throws {
        try await Harness.with(config: Self.config, environment: Self.env, otlp: false) { h in
            let key = try await h.newKey()
            #expect(try await h.send("/get/config/callbacks", key: key).status == 403)
            let reply = try await h.send("/get/config/callbacks")
            #expect(reply.status == 200, "\(reply.text)")
            let body = try #require(reply.json)
            #expect(body["status"] == "success")
            let callbacks = try #require(body["callbacks"]?.arrayValue)
            let byName = Dictionary(
                uniqueKeysWithValues: callbacks.compactMap { entry in entry["name"]?.stringValue.map { ($0, entry) } })
            #expect(byName["generic_api"]?["type"] == "success")
            #expect(byName["sentry"]?["type"] == "failure")
            #expect(byName["otel"]?["type"] == "success_and_failure" && byName["prometheus"]?["type"] == "success_and_failure")
            let generic = byName["generic_api"]?["variables"]
            let endpoint = generic?["GENERIC_LOGGER_ENDPOINT"]?.stringValue ?? ""
            #expect(endpoint.hasPrefix("http://127.0.0.1:") && endpoint.hasSuffix("/hook?REDACTED"), "\(endpoint)")
            #expect(generic?["GENERIC_LOGGER_HEADERS"] == "REDACTED")
            #expect(byName["sentry"]?["variables"]?["SENTRY_DSN"] == "REDACTED")
            let alerts = try #require(body["alerts"]?.arrayValue)
            #expect(alerts.compactMap { $0["name"]?.stringValue } == ["slack", "email", "ms_teams"])
            #expect(alerts.first?["variables"]?["SLACK_WEBHOOK_URL"] == "REDACTED")
            #expect(body["active_alerting_destinations"]?.arrayValue == ["slack"])
            #expect(body["router_settings"]?["routing_strategy"] == "simple-shuffle")
            #expect(body["available_callbacks"]?["langfuse"]?["litellm_callback_params"]?.arrayValue?.count == 3)
            Self.expectNoSecret(reply)
        }
    }

    @Test func urlsKeepOnlyTheirPlace() {
        #expect(
            CallbackEndpoints.maskedURL("https://user:pass@host.example:8443/a/b?token=x#f")
                == "https://REDACTED@host.example:8443/a/b?REDACTED#REDACTED")
        #expect(CallbackEndpoints.maskedURL("http://host/path") == "http://host/path")
        #expect(CallbackEndpoints.maskedURL("not a url") == "REDACTED")
    }
}
