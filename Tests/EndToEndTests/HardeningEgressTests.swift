import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Telemetry
import Testing

@testable import Proxy
@testable import Sinks

/// An upstream and sink that misbehaves on purpose, by path prefix:
/// - `/retry-huge…`: 429 with `Retry-After: 1e300`;
/// - `/retry-nan…`: 500 with `retry-after-ms: nan`;
/// - `/redirect…`: 307 to `/stolen…` on the same server, which records what reaches it and
///   answers a valid chat completion (so a followed redirect would look like success).
final class TrapServer: Sendable {
    struct Hit: Sendable {
        var path: String
        var headers: HTTPFields
    }

    let hits = Mutex<[Hit]>([])
    let port = Atomic<Int>(0)
    var root: String { "http://127.0.0.1:\(port.load(ordering: .relaxed))" }

    func received(under prefix: String) -> [Hit] { hits.withLock { $0.filter { $0.path.hasPrefix(prefix) } } }

    static let completion =
        #"{"id":"chatcmpl-stolen","object":"chat.completion","created":1700000000,"model":"stolen","choices":[{"index":0,"message":{"role":"assistant","content":"stolen"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#
    static let rateLimited = #"{"error":{"message":"slow down","type":"rate_limit_exceeded","code":"rate_limit_exceeded"}}"#

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        @Sendable func answer(_ request: Request) async throws -> Response {
            let path = request.uri.path
            _ = try await request.body.collect(upTo: 1 << 20)
            hits.withLock { $0.append(Hit(path: path, headers: request.headers)) }
            let json: HTTPFields = [.contentType: "application/json"]
            if path.hasPrefix("/stolen") {
                return Response(status: .ok, headers: json, body: .init(byteBuffer: ByteBuffer(string: Self.completion)))
            }
            if path.hasPrefix("/retry-huge") {
                var headers = json
                headers[.retryAfter] = "1e300"
                return Response(
                    status: .tooManyRequests, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Self.rateLimited)))
            }
            if path.hasPrefix("/retry-nan") {
                var headers = json
                headers[HTTPField.Name("retry-after-ms")!] = "nan"
                return Response(status: .internalServerError, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{}")))
            }
            if path.hasPrefix("/redirect") {
                return Response(status: .temporaryRedirect, headers: [.location: root + "/stolen" + path])
            }
            return Response(status: .notFound)
        }
        router.post("**") { request, _ in try await answer(request) }
        router.get("**") { request, _ in try await answer(request) }
        return router
    }

    /// Runs a trap server on port 0 for the duration of `body`.
    static func with(_ body: (TrapServer) async throws -> Void) async throws {
        var logger = Logger(label: "trap")
        logger.logLevel = .warning
        let trap = TrapServer()
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: trap.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let running = Task { try await group.run() }
        for await port in ports {
            trap.port.store(port, ordering: .relaxed)
            break
        }
        do {
            try await body(trap)
        } catch {
            await group.triggerGracefulShutdown()
            try? await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// Issue 11 end to end: one header cannot crash the gateway, redirects do not carry keys away,
/// team destinations set through the admin API cannot point inside the network or read the
/// environment, and a wildcard model cannot climb out of its URL path segment.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HardeningEgressTests {
    // MARK: Crashes from one header

    @Test(.timeLimit(.minutes(3))) func hostileRetryHeadersDoNotCrashTheGateway() async throws {
        try await TrapServer.with { trap in
            let config = """
                router_settings: {num_retries: 0}
                model_list:
                  - model_name: huge-retry
                    litellm_params: {model: openai/gpt-4o-mini, api_base: "\(trap.root)/retry-huge/v1", api_key: sk-trap-upstream}
                  - model_name: huge-retry-anthropic
                    litellm_params: {model: anthropic/claude-x, api_base: "\(trap.root)/retry-huge-anthropic", api_key: sk-trap-upstream}
                  - model_name: nan-retry
                    litellm_params: {model: openai/gpt-4o-mini, api_base: "\(trap.root)/retry-nan/v1", api_key: sk-trap-upstream}
                  - model_name: healthy
                    litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}
                """
            try await Harness.with(config: config, otlp: false) { h in
                let limited = try await h.chat("huge-retry")
                #expect(limited.status == 429, "\(limited.text)")
                #expect(limited.headers.first(name: "retry-after") == "86400", "clamped to a day")
                #expect(limited.json?["error"]?["message"] != nil)
                // The deployment is now cooling down for (at most) a day: the router says so, no trap.
                let cooling = try await h.chat("huge-retry")
                #expect(cooling.status == 429 && cooling.headers.first(name: "retry-after") == "86400", "\(cooling.text)")

                let anthropic = try await h.chat("huge-retry-anthropic")
                #expect(anthropic.status == 429 && anthropic.headers.first(name: "retry-after") == "86400", "\(anthropic.text)")

                let failed = try await h.chat("nan-retry")
                #expect(failed.status == 500, "\(failed.text)")
                #expect(failed.headers.first(name: "retry-after") == nil, "NaN is ignored")
                #expect(trap.received(under: "/retry-nan").count == 1)

                // Still up, still answering.
                let next = try await h.chat("healthy")
                #expect(next.status == 200, "\(next.text)")
                #expect(try await h.send("/health/liveliness", key: nil).status == 200)
            }
        }
    }

    // MARK: Redirects

    @Test(.timeLimit(.minutes(3))) func anUpstreamRedirectIsAnErrorAndTheKeyGoesNowhere() async throws {
        try await TrapServer.with { trap in
            let config = """
                router_settings: {num_retries: 0}
                model_list:
                  - model_name: redirected
                    litellm_params: {model: openai/gpt-4o-mini, api_base: "\(trap.root)/redirect/v1", api_key: sk-redirect-upstream-secret}
                  - model_name: redirected-azure
                    litellm_params: {model: azure/my-deployment, api_base: "\(trap.root)/redirect-azure", api_key: azure-redirect-secret}
                """
            try await Harness.with(config: config, otlp: false) { h in
                for model in ["redirected", "redirected-azure"] {
                    let reply = try await h.chat(model)
                    #expect(reply.status == 502, "\(model): \(reply.text)")
                    let error = reply.json?["error"]
                    #expect(error?["message"]?.stringValue?.contains("redirect") == true, "\(reply.text)")
                    #expect(error?["type"]?.stringValue != nil)
                    #expect(!reply.text.contains("secret") && !reply.text.contains("/stolen"))
                }
                #expect(trap.received(under: "/redirect").count == 2, "the upstream was asked")
                #expect(trap.received(under: "/stolen").isEmpty, "the redirect target got nothing")
            }
        }
    }

    @Test(.timeLimit(.minutes(3))) func aSinkRedirectIsAFailedDelivery() async throws {
        try await TrapServer.with { trap in
            let config = """
                litellm_settings: {callbacks: ["generic_api"]}
                model_list:
                  - model_name: healthy
                    litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}
                """
            let env = [
                "GENERIC_LOGGER_ENDPOINT": "\(trap.root)/redirect-hook",
                "GENERIC_LOGGER_HEADERS": "x-hook-token=hook-secret-value",
            ]
            try await Harness.with(config: config, environment: env, otlp: false) { h in
                #expect(try await h.chat("healthy").status == 200)
                try await h.eventually("the webhook's delivery failed") {
                    let stats = h.gateway.pipeline.stats().first { $0.sink == "generic_api" }
                    return (stats?.failedAttempts ?? 0) > 0 && (stats?.dropped ?? 0) > 0
                }
                #expect(trap.received(under: "/redirect-hook").count == 1, "asked once: a redirect is not retried")
                #expect(trap.received(under: "/stolen").isEmpty, "the redirect target got nothing")
                #expect(h.gateway.pipeline.stats().first { $0.sink == "generic_api" }?.exported == 0)
            }
        }
    }

    // MARK: Team destinations through the admin API

    static let teamConfig = """
        general_settings: {master_key: sk-e2e-master}
        model_list:
          - model_name: gpt-4o-mini
            litellm_params: {model: openai/gpt-4o-mini, api_base: "{upstream}"}
        """

    func webhook(_ url: String) -> String {
        #"{"callback_name":"generic_api","callback_vars":{"generic_logger_endpoint":"\#(url)"}}"#
    }

    @Test(.timeLimit(.minutes(3))) func forbiddenTeamDestinationsAreRefusedNamingTheField() async throws {
        try await Harness.with(config: Self.teamConfig, otlp: false) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t"}"#).status == 200)
            let forbidden = [
                "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/x",
                "http://metadata/", "http://100.100.100.200/", "http://169.254.10.10/", "http://[fe80::1]/",
                "http://localhost:4000/", "http://\(h.hooks.root)/t", "http://2130706433/", "http://0x7f.1/", "http://127.1/",
                "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://10.0.0.1/",
                "http://172.16.0.1/", "http://192.168.1.1/", "http://[fd12::1]/", "http://0.0.0.0/", "http://100.64.0.1/",
            ]
            let field = "metadata.logging[0].callback_vars.generic_logger_endpoint"
            for url in forbidden {
                let reply = try await h.send("/team/t/callback", json: webhook(url))
                #expect(reply.status == 400, "\(url): \(reply.text)")
                #expect(reply.json?["error"]?["param"]?.stringValue == field, "\(url): \(reply.text)")
                #expect(reply.json?["error"]?["type"] == "invalid_request_error")
            }
            // Langfuse's host, named by its own key.
            let langfuse = try await h.send(
                "/team/t/callback",
                json:
                    #"{"callback_name":"langfuse","callback_vars":{"langfuse_public_key":"pk","langfuse_secret_key":"sk","langfuse_host":"http://169.254.169.254"}}"#
            )
            #expect(
                langfuse.status == 400 && langfuse.json?["error"]?["param"] == "metadata.logging[0].callback_vars.langfuse_host",
                "\(langfuse.text)")
            // Sentry's DSN host.
            let sentry = try await h.send(
                "/team/t/callback",
                json: #"{"callback_name":"sentry","callback_vars":{"sentry_dsn":"http://key@169.254.169.254/42"}}"#)
            #expect(
                sentry.status == 400 && sentry.json?["error"]?["param"] == "metadata.logging[0].callback_vars.sentry_dsn",
                "\(sentry.text)")
            // The same through team metadata, on update and on creation.
            let update = try await h.send(
                "/team/update", json: #"{"team_id":"t","metadata":{"logging":[\#(webhook("http://169.254.169.254/"))]}}"#)
            #expect(update.status == 400 && update.json?["error"]?["param"]?.stringValue == field, "\(update.text)")
            let created = try await h.send(
                "/team/new", json: #"{"team_id":"u","metadata":{"logging":[\#(webhook("http://127.0.0.1:9/"))]}}"#)
            #expect(created.status == 400 && created.json?["error"]?["param"]?.stringValue == field, "\(created.text)")
            #expect(try await h.send("/team/info?team_id=u").status == 404, "nothing was created")
            // Nothing was stored.
            let shown = try await h.send("/team/t/callback")
            #expect(shown.json?["data"]?["logging"]?.arrayValue?.isEmpty == true, "\(shown.text)")
        }
    }

    @Test(.timeLimit(.minutes(3))) func allowedEgressLetsTheOperatorOpenAddresses() async throws {
        let config =
            Self.teamConfig + """

                spanway_settings:
                  allowed_egress: ["127.0.0.1/32", "10.0.0.0/8"]
                """
        try await Harness.with(config: config, otlp: false) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t"}"#).status == 200)
            for url in ["http://\(h.hooks.root)/team-t", "http://2130706433:9/", "http://10.1.2.3/"] {
                let reply = try await h.send("/team/t/callback", json: webhook(url))
                #expect(reply.status == 200, "\(url): \(reply.text)")
            }
            for url in ["http://127.0.0.2/", "http://169.254.169.254/", "http://192.168.0.1/"] {
                let reply = try await h.send("/team/t/callback", json: webhook(url))
                #expect(reply.status == 400, "\(url) is not in allowed_egress: \(reply.text)")
            }
            // The allowed destination receives the team's requests.
            #expect(try await h.send("/team/t/callback", json: webhook("http://\(h.hooks.root)/team-t")).status == 200)
            let generated = try await h.send("/key/generate", json: #"{"team_id":"t"}"#)
            let key = try #require(generated.json?["key"]?.stringValue, "\(generated.text)")
            let reply = try await h.send(
                "/v1/chat/completions", json: #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}"#, key: key)
            #expect(reply.status == 200)
            try await h.eventually("the team's webhook got its request") { !h.hooks.received(under: "/team-t").isEmpty }
        }
    }

    @Test(.timeLimit(.minutes(3))) func teamCallbacksMayNotReadTheEnvironment() async throws {
        try await Harness.with(
            config: Self.teamConfig, environment: ["E2E_PRESENT_SECRET": "e2e-present-secret-xyz"], otlp: false
        ) { h in
            #expect(try await h.send("/team/new", json: #"{"team_id":"t"}"#).status == 200)
            func attempt(_ variable: String) async throws -> Harness.Reply {
                try await h.send(
                    "/team/t/callback",
                    json:
                        #"{"callback_name":"langfuse","callback_vars":{"langfuse_public_key":"os.environ/\#(variable)","langfuse_secret_key":"sk"}}"#
                )
            }
            let present = try await attempt("E2E_PRESENT_SECRET")
            let missing = try await attempt("E2E_SURELY_MISSING")
            #expect(
                present.status == 400
                    && present.json?["error"]?["param"] == "metadata.logging[0].callback_vars.langfuse_public_key",
                "\(present.text)")
            #expect(present.text == missing.text, "the answer does not tell which variables exist")
            #expect(!present.text.contains("e2e-present-secret-xyz") && !present.text.contains("E2E_PRESENT_SECRET"))
        }
    }

    // MARK: Model names in URL paths

    @Test(.timeLimit(.minutes(3))) func aWildcardModelCannotClimbOutOfItsPathSegment() async throws {
        let config = """
            model_list:
              - model_name: "azure/*"
                litellm_params: {model: "azure/*", api_base: "{upstream_root}", api_key: azure-key}
            """
        try await Harness.with(config: config, otlp: false) { h in
            for model in [
                "azure/..", "azure/.", "azure/%2e%2e", "azure/../../admin", "azure/a?x=1", "azure/a#b", #"azure/..\\.."#,
            ] {
                let reply = try await h.chat(model)
                #expect(reply.status == 400, "\(model): \(reply.text)")
                #expect(reply.json?["error"]?["param"] == "model", "\(model): \(reply.text)")
            }
            #expect(h.upstream.count == 0, "nothing reached the upstream")
        }
    }
}
