import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Sinks
import Telemetry

/// The HTTP face of the gateway: OpenAI paths with and without `/v1`, health, and metrics.
public enum GatewayServer {
    public static func makeRouter(
        gateway: Gateway, evaluations: EvaluationRuns? = nil, healthChecks: HealthChecks? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: OpenAIErrorMiddleware())
        router.add(middleware: StoredModelsLoading(registry: gateway.modelRegistry))
        let limit = gateway.config.maxRequestBodyBytes
        for prefix in ["", "/v1"] {
            for (path, operation) in jsonOperations {
                let route = prefix + path
                router.post(RouterPath(route)) { request, _ -> Response in
                    response(
                        await gateway.proxy(operation, headers: request.headers, route: route) { () throws(GatewayError) in
                            try await collectBody(request, limit: limit)
                        })
                }
            }
            for (path, operation) in [
                ("/audio/transcriptions", OpenAIRequest.Operation.audioTranscription),
                ("/audio/translations", .audioTranslation),
            ] {
                let route = prefix + path
                router.post(RouterPath(route)) { request, _ -> Response in
                    response(
                        await gateway.proxyUpload(operation, headers: request.headers, route: route) {
                            () throws(GatewayError) in
                            try await collectBody(request, limit: limit)
                        })
                }
            }
            router.get(RouterPath(prefix + "/responses/:response_id")) { request, context -> Response in
                let id = context.parameters.get("response_id") ?? ""
                return response(
                    await gateway.storedResponse(id: id, headers: request.headers, route: prefix + "/responses/{response_id}"))
            }
            router.get(RouterPath(prefix + "/responses/:response_id/input_items")) { request, context -> Response in
                let id = context.parameters.get("response_id") ?? ""
                var query: [String: String] = [:]
                for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
                return response(
                    await gateway.storedResponseInputItems(
                        id: id, query: query, headers: request.headers, route: prefix + "/responses/{response_id}/input_items"))
            }
            router.post(RouterPath(prefix + "/responses/input_tokens")) { request, _ -> Response in
                response(
                    await gateway.responsesInputTokens(headers: request.headers, route: prefix + "/responses/input_tokens") {
                        () throws(GatewayError) in
                        try await collectBody(request, limit: limit)
                    })
            }
            router.delete(RouterPath(prefix + "/responses/:response_id")) { request, context -> Response in
                let id = context.parameters.get("response_id") ?? ""
                return response(
                    await gateway.deleteStoredResponse(
                        id: id, headers: request.headers, route: prefix + "/responses/{response_id}"))
            }
            router.post(RouterPath(prefix + "/messages")) { request, _ -> Response in
                response(
                    await gateway.proxyMessages(headers: request.headers, route: prefix + "/messages") {
                        () throws(GatewayError) in
                        try await collectBody(request, limit: limit)
                    })
            }
            router.post(RouterPath(prefix + "/messages/count_tokens")) { request, _ -> Response in
                response(
                    await gateway.countTokens(headers: request.headers, route: prefix + "/messages/count_tokens") {
                        () throws(GatewayError) in
                        try await collectBody(request, limit: limit)
                    })
            }
            router.get(RouterPath(prefix + "/models")) { request, _ -> Response in
                let query = request.uri.queryParameters
                return response(
                    await gateway.models(
                        headers: request.headers, route: prefix + "/models",
                        includeAccessGroups: query["include_model_access_groups"] == "true",
                        onlyAccessGroups: query["only_model_access_groups"] == "true"))
            }
            router.get(RouterPath(prefix + "/model/info")) { request, _ -> Response in
                let id = request.uri.queryParameters["litellm_model_id"].map(String.init)
                return response(await gateway.modelInfo(modelID: id, headers: request.headers, route: prefix + "/model/info"))
            }
            // Model ids may hold slashes (`openai/gpt-4o`): the rest of the path is the id.
            router.get(RouterPath(prefix + "/models/**")) { request, context -> Response in
                let id = context.parameters.getCatchAll().joined(separator: "/")
                let route = request.uri.path
                return response(
                    await gateway.model(id: id.removingPercentEncoding ?? id, headers: request.headers, route: route))
            }
        }
        // Cohere's v2 client (LiteLLM serves `/rerank`, `/v1/rerank` and `/v2/rerank` alike).
        router.post("/v2/rerank") { request, _ -> Response in
            response(
                await gateway.proxy(.rerank, headers: request.headers, route: "/v2/rerank") { () throws(GatewayError) in
                    try await collectBody(request, limit: limit)
                })
        }
        // Azure OpenAI's paths (`AzureOpenAI` clients): the deployment in the path is the model group.
        for (path, operation) in [
            ("/chat/completions", OpenAIRequest.Operation.chat), ("/embeddings", .embeddings),
            ("/completions", .textCompletion), ("/images/generations", .imageGeneration),
        ] {
            let route = "/openai/deployments/{deployment}" + path
            router.post(RouterPath("/openai/deployments/:deployment" + path)) { request, context -> Response in
                let name = context.parameters.get("deployment") ?? ""
                return response(
                    await gateway.proxyAzure(
                        operation, deployment: name.removingPercentEncoding ?? name, headers: request.headers, route: route
                    ) { () throws(GatewayError) in
                        try await collectBody(request, limit: limit)
                    })
            }
        }
        router.get("/model_group/info") { request, _ -> Response in
            let group = request.uri.queryParameters["model_group"].map(String.init)
            return response(await gateway.modelGroupInfo(group: group, headers: request.headers, route: "/model_group/info"))
        }
        // Admin endpoints: POSTs take the (size-limited) body, read only once the master key is
        // checked; GETs the query string.
        @Sendable func adminBody(_ request: Request) async throws(GatewayError) -> ByteBuffer {
            _ = try await gateway.authenticator.authenticateAdmin(request.headers)
            return try await collectBody(request, limit: limit)
        }
        func post(_ path: String, _ handle: @escaping @Sendable (ByteBuffer, HTTPFields) async -> GatewayReply) {
            router.post(RouterPath(path)) { request, _ in
                response(await handle(try await adminBody(request), request.headers))
            }
        }
        /// Admin reads show every request answered before them: spend still in the journal is
        /// written to the store first.
        func get(_ path: String, _ handle: @escaping @Sendable (String, HTTPFields) async -> GatewayReply) {
            router.get(RouterPath(path)) { request, _ in
                await gateway.ledger?.flush()
                return response(await handle(request.uri.description, request.headers))
            }
        }
        if let keys = gateway.keyManagement {
            post("/key/generate", keys.generate)
            post("/key/update", keys.update)
            post("/key/delete", keys.delete)
            post("/key/regenerate", keys.regenerate)
            post("/key/block", keys.block)
            post("/key/unblock", keys.unblock)
            get("/key/info", keys.info)
            get("/key/list", keys.list)
        }
        /// LiteLLM's `/<kind>/new`, `/update`, `/delete` and `/info` for teams, users and organisations.
        func entity(_ kind: String, _ endpoints: some EntityEndpoints) {
            post("/\(kind)/new", endpoints.create)
            post("/\(kind)/update", endpoints.update)
            post("/\(kind)/delete", endpoints.delete)
            get("/\(kind)/info", endpoints.info)
        }
        if let teams = gateway.teamManagement {
            entity("team", teams)
            post("/team/member_add", teams.addMember)
            post("/team/member_delete", teams.deleteMember)
            get("/team/list") { _, headers in await teams.list(headers: headers) }
            router.post("/team/:team_id/callback") { request, context in
                let body = try await adminBody(request)
                let team = context.parameters.get("team_id") ?? ""
                return response(await teams.addCallback(teamID: team, body: body, headers: request.headers))
            }
            router.get("/team/:team_id/callback") { request, context in
                response(await teams.callbacks(teamID: context.parameters.get("team_id") ?? "", headers: request.headers))
            }
            router.post("/team/:team_id/disable_logging") { request, context in
                response(await teams.disableLogging(teamID: context.parameters.get("team_id") ?? "", headers: request.headers))
            }
        }
        if let users = gateway.userManagement {
            entity("user", users)
            get("/user/list", users.list)
        }
        if let organizations = gateway.organizationManagement {
            entity("organization", organizations)
            // LiteLLM serves these two as PATCH and DELETE.
            router.patch("/organization/update") { request, _ in
                response(await organizations.update(try await adminBody(request), headers: request.headers))
            }
            router.delete("/organization/delete") { request, _ in
                response(await organizations.delete(try await adminBody(request), headers: request.headers))
            }
            get("/organization/list", organizations.list)
        }
        if let store = gateway.authenticator.store {
            // LiteLLM serves end users under both names; `/customer/*` is the documented one.
            let endUsers = EndUserManagement(store: store, authenticator: gateway.authenticator)
            for prefix in ["/end_user", "/customer"] {
                post("\(prefix)/new", endUsers.create)
                post("\(prefix)/update", endUsers.update)
                post("\(prefix)/delete", endUsers.delete)
                post("\(prefix)/block", endUsers.block)
                post("\(prefix)/unblock", endUsers.unblock)
                get("\(prefix)/info", endUsers.info)
                get("\(prefix)/list", endUsers.list)
            }
            let budgets = BudgetManagement(store: store, authenticator: gateway.authenticator)
            post("/budget/new", budgets.create)
            post("/budget/update", budgets.update)
            post("/budget/info", budgets.info)
            post("/budget/delete", budgets.delete)
            get("/budget/list", budgets.list)
        }
        if let models = gateway.modelManagement {
            post("/model/new", models.create)
            post("/model/update", models.update)
            post("/model/delete", models.delete)
            router.patch("/model/:model_id/update") { request, context in
                let body = try await adminBody(request)
                let id = context.parameters.get("model_id") ?? ""
                return response(await models.patch(id: id.removingPercentEncoding ?? id, body, headers: request.headers))
            }
        }
        if let reports = gateway.spendReports {
            get("/spend/logs", reports.logs)
            get("/global/spend/report", reports.report)
            get("/spanway/analytics", AnalyticsEndpoint(reports: reports, clock: gateway.clock).report)
        }
        let evaluations = evaluations ?? EvaluationRuns(gateway: gateway)
        router.post("/spanway/evaluations") { request, _ in
            // Authorised before the body is read: the run is checked again with its plan.
            _ = try await gateway.authenticator.authenticate(request.headers, route: "/spanway/evaluations")
            let body = try await collectBody(request, limit: limit)
            return response(await evaluations.start(body, headers: request.headers))
        }
        router.get("/spanway/evaluations/:id") { request, context in
            response(await evaluations.status(of: context.parameters.get("id") ?? "", headers: request.headers))
        }
        router.get("/health/liveliness") { _, _ in plainJSON(#"{"status":"healthy"}"#) }
        router.get("/health/liveness") { _, _ in plainJSON(#"{"status":"healthy"}"#) }
        let health = HealthEndpoints(gateway: gateway, checks: healthChecks ?? HealthChecks(gateway: gateway))
        router.get("/health/readiness") { _, _ in response(await health.readiness()) }
        router.get("/health/readiness/details") { request, _ in
            response(await health.readinessDetails(headers: request.headers))
        }
        let callbacks = CallbackEndpoints(gateway: gateway)
        router.get("/active/callbacks") { request, _ in response(await callbacks.active(headers: request.headers)) }
        router.get("/get/config/callbacks") { request, _ in response(await callbacks.config(headers: request.headers)) }
        // Open, as in LiteLLM (one of its public routes); filled from the router below.
        let routeList = RouteList()
        router.get("/routes") { _, _ in response(routeList.reply()) }
        router.get("/health") { request, _ -> Response in
            let query = request.uri.queryParameters
            return response(
                await health.health(
                    model: query["model"].map(String.init), modelID: query["model_id"].map(String.init),
                    headers: request.headers))
        }
        let metricsAccess = MetricsAccess(gateway.config)
        router.get("/metrics") { request, _ -> Response in
            try metricsAccess.check(request.headers)
            // Several Accept fields combine into one list (RFC 9110).
            let accept = request.headers[values: .accept]
            let format = MetricsFormat(accept: accept.isEmpty ? nil : accept.joined(separator: ","))
            return Response(
                status: .ok, headers: [.contentType: format.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: await gateway.metricsText(format: format))))
        }
        // Last: every route registered above is listed at `/routes`.
        routeList.record(router.routes)
        return router
    }

    /// The JSON endpoints that run a request through a model, by path (without `/v1`).
    static let jsonOperations: [(String, OpenAIRequest.Operation)] = [
        ("/chat/completions", .chat), ("/embeddings", .embeddings), ("/responses", .responses),
        ("/completions", .textCompletion), ("/images/generations", .imageGeneration), ("/audio/speech", .audioSpeech),
        ("/rerank", .rerank), ("/moderations", .moderation),
    ]

    /// The body, refused with 413 past `limit` (early when `content-length` says so).
    static func collectBody(_ request: Request, limit: Int) async throws(GatewayError) -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw GatewayError.payloadTooLarge(limit: limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw GatewayError.payloadTooLarge(limit: limit)
        } catch {
            throw GatewayError(.invalidRequest, "The request body could not be read.", label: "body_unreadable")
        }
    }

    static func response(_ reply: GatewayReply) -> Response {
        var headers = HTTPFields()
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: reply.status)
        switch reply.body {
        case .bytes(let bytes):
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let stream):
            return Response(
                status: status, headers: headers,
                body: ResponseBody { writer in
                    let out = SharedBodyWriter(writer)
                    let ending = await stream.run { buffer in try await out.write(buffer) }
                    writer = out.writer
                    // A client that left, or stopped reading, gets no end: the connection is closed.
                    guard case .finished(let trailers) = ending else { throw ClientGone() }
                    var fields = HTTPFields()
                    for (name, value) in trailers {
                        if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
                    }
                    try await writer.finish(fields.isEmpty ? nil : fields)
                })
        }
    }

    static func plainJSON(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Every error leaves as OpenAI's error shape with the matching status, including the router's
/// own (unknown path, wrong method) and anything unexpected, which is logged and answered 500.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as GatewayError {
            return Self.render(error)
        } catch let error as HTTPError {
            let status = Int(error.status.code)
            let message =
                error.body
                ?? (status == 404 ? "No route for \(request.method) \(request.uri.path)." : "\(error.status.reasonPhrase)")
            return Self.render(GatewayError(.http(status: status), message))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(type(of: error))"])
            return Self.render(.internal("The gateway failed to handle the request."))
        }
    }

    static func render(_ error: GatewayError) -> Response {
        GatewayServer.response(GatewayReply(error))
    }
}

/// Thrown out of a response body to make the server close the connection.
struct ClientGone: Error {}

/// Hands the response body writer to the stream, which writes from a task of its own (so that a
/// stalled write can be cancelled, see `StreamWatch`). Safe to share: the stream writes one piece at a time and
/// the handler takes the writer back only after the stream has returned; the writer under the
/// existential is Hummingbird's Sendable channel writer.
final class SharedBodyWriter: @unchecked Sendable {
    var writer: any ResponseBodyWriter

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
    }

    func write(_ buffer: ByteBuffer) async throws {
        try await writer.write(buffer)
    }
}
