import HTTPTypes
import Logging
import NIOCore
import Telemetry
import Tokenizers

extension Principal {
    /// Whose the responses this caller makes are: its key's digest, the master key's, or (on a
    /// gateway without keys) everyone's.
    var responseOwner: String {
        if isMaster { return "master" }
        return key.map { "key:" + $0.token } ?? "open"
    }
}

extension Gateway {
    /// `GET /v1/responses/{id}`: a response the gateway keeps, for the caller that made it (the
    /// master key reads any); otherwise a 404, as for one that expired.
    public func storedResponse(id: String, headers: HTTPFields, route: String) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers, route: route)
        } catch {
            return GatewayReply(error)
        }
        guard let stored = await responseStore.get(id, owner: principal.responseOwner) else {
            return GatewayReply(Self.responseNotFound(id))
        }
        return GatewayReply(
            status: 200, headers: [("content-type", "application/json")],
            body: .bytes(JSONValue.object(stored.response).encoded()))
    }

    /// `GET /v1/responses/{id}/input_items`: the items that made a kept response — the earlier
    /// turns' inputs and outputs, as far back as the gateway still keeps them (each turn expires
    /// on its own) and at most `maxListedTurns` back, then its own input — a page at a time.
    /// Readable by whoever may read the response.
    public func storedResponseInputItems(id: String, query: [String: String], headers: HTTPFields, route: String) async
        -> GatewayReply
    {
        do throws(GatewayError) {
            let principal = try await authenticator.authenticate(headers, route: route)
            guard let stored = await responseStore.get(id, owner: principal.responseOwner) else {
                throw Self.responseNotFound(id)
            }
            var turns = [stored.input]
            var seen: Set = [stored.id]
            var previousID = stored.previousID
            while let earlierID = previousID, seen.count < Self.maxListedTurns, seen.insert(earlierID).inserted,
                let earlier = await responseStore.get(earlierID, owner: stored.owner)
            {
                turns.append(earlier.input + (earlier.response["output"]?.arrayValue ?? []))
                previousID = earlier.previousID
            }
            let page = try ResponseInputItems.page(turns.reversed().flatMap { $0 }, query: query)
            return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(page.encoded()))
        } catch {
            return GatewayReply(error)
        }
    }

    /// The most turns `input_items` walks back: each is one read of the store.
    static let maxListedTurns = 1_000

    /// `POST /v1/responses/input_tokens`: the input tokens a Responses request would send, as
    /// `{"object":"response.input_tokens","input_tokens":N}`. Authenticated, and the model
    /// resolved, as for `POST /v1/responses`; `previous_response_id` must be a response the
    /// gateway keeps for the caller. A deployment that takes the Responses API natively (OpenAI,
    /// Azure) counts it itself, with the conversation as a model call would send it
    /// (`x-spanway-token-count: provider`), unless it has no such endpoint. Any other model is
    /// counted here, as `PromptCounter` counts a prompt (OpenAI encodings with their BPE ranks:
    /// `tokenizer`; others ⌈bytes ÷ 4⌉: `estimated`), over the request in chat form: what its
    /// provider is sent. Counting is free: it is not rate-limited, charged or traced as a model
    /// call.
    public func responsesInputTokens(
        headers: HTTPFields, route: String, body readBody: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        do throws(GatewayError) {
            let counted = try await countingRequest(headers: headers, route: route, body: readBody)
            let deployment = counted.deployment
            var body = counted.body
            if body["input"] == nil || body["input"] == .null { body["input"] = .array([]) }
            var request = try OpenAIRequest(operation: .responses, body: body)
            request.responses = try await flow.attempts.responses.turn(
                for: request, owner: counted.principal.responseOwner, requestID: "req_count", now: clock.nowSeconds())
            let answer: [UInt8]
            let method: String
            if deployment.adapter.serving(.responses) == .native,
                let provider = try await providerInputTokens(request, on: deployment)
            {
                (answer, method) = (provider, "provider")
            } else {
                let tally = try gatewayInputTokens(body, history: request.responses?.history ?? [], on: deployment)
                answer = JSONValue.object(["object": "response.input_tokens", "input_tokens": .int(tally.tokens)]).encoded()
                method = tally.estimated ? "estimated" : "tokenizer"
            }
            return GatewayReply(
                status: 200,
                headers: [
                    ("content-type", "application/json"), ("x-spanway-model-group", counted.group),
                    ("x-spanway-token-count", method),
                ],
                body: .bytes(answer))
        } catch {
            return GatewayReply(error)
        }
    }

    /// The fields of a Responses request that `input_tokens` takes (OpenAI refuses others).
    static let inputTokensFields: Set = [
        "model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "truncation",
        "previous_response_id", "parallel_tool_calls",
    ]

    /// The provider's own count, or nil when it has no such endpoint (a 404: an older API
    /// version, a proxy in front of it), and the gateway counts instead.
    private func providerInputTokens(_ request: OpenAIRequest, on deployment: Deployment) async throws(GatewayError)
        -> [UInt8]?
    {
        do throws(GatewayError) {
            return try await sendCount(try nativeInputTokens(request, on: deployment), to: deployment)
        } catch {
            guard error.status == 404 else { throw error }
            return nil
        }
    }

    /// The gateway's own count of a Responses request: over its chat form, what a deployment
    /// served through chat is sent. A native deployment's request may hold what chat cannot
    /// carry (built-in tools, a stored prompt): then ⌈bytes ÷ 4⌉ of the request's JSON.
    private func gatewayInputTokens(_ body: JSONObject, history: [JSONValue], on deployment: Deployment)
        throws(GatewayError) -> (tokens: Int, estimated: Bool)
    {
        let prompts = flow.attempts.prompts
        do throws(GatewayError) {
            let prompt = try ResponsesInbound.chatRequest(from: body, history: history)
            let tally = prompts.inputTokens(prompt, tokenizer: prompts.tokenizer(for: deployment.config))
            return (tally.tokens, tally.estimated)
        } catch {
            guard deployment.adapter.serving(.responses) == .native else { throw error }
            var counted = body
            counted["model"] = nil
            let bytes = JSONValue.object(counted).encoded().count + history.reduce(0) { $0 + $1.encoded().count }
            return (FallbackEstimate.tokens(bytes: bytes), true)
        }
    }

    /// The provider's `…/responses/input_tokens` request for `request`: its countable fields,
    /// the deployment's model, and the kept conversation as a model call would carry it.
    private func nativeInputTokens(_ request: OpenAIRequest, on deployment: Deployment) throws(GatewayError)
        -> UpstreamRequest
    {
        var counted = request
        counted.body = flow.attempts.responses.continuing(request, body: request.body, on: deployment)
        for name in counted.body.keys where !Self.inputTokensFields.contains(name) { counted.body[name] = nil }
        return try Self.responsesAPI(counted, on: deployment, path: "/input_tokens")
    }

    /// A request to the deployment's Responses API at `/responses<path>`: its address, key and
    /// headers as for a model call with `request`.
    private static func responsesAPI(_ request: OpenAIRequest, on deployment: Deployment, path: String)
        throws(GatewayError) -> UpstreamRequest
    {
        var upstream = try deployment.adapter.request(for: request, deployment: deployment.config)
        let query = upstream.url.firstIndex(of: "?") ?? upstream.url.endIndex
        guard upstream.url[..<query].hasSuffix("/responses") else {
            throw .badUpstreamResponse("The deployment '\(deployment.config.modelName)' has no Responses API.")
        }
        upstream.url.insert(contentsOf: path, at: query)
        return upstream
    }

    /// Deletes a kept response at the native deployment that answered it (OpenAI keeps its
    /// responses unless told not to). A provider's 404 means it has none (`store: false`, or
    /// already gone). Throws only a failure a retry may pass; any other (a revoked provider key, a
    /// deployment no longer configured) is logged.
    private func deleteAtProvider(_ stored: StoredResponse) async throws(GatewayError) {
        var problem: Logger.Metadata = ["deployment": "\(stored.deploymentID)"]
        if let deployment = router.deployments.first(where: { $0.config.id == stored.deploymentID }) {
            do throws(GatewayError) {
                let placeholder = try OpenAIRequest(operation: .responses, body: ["model": "m", "input": ""])
                var request = try Self.responsesAPI(placeholder, on: deployment, path: "/" + stored.id)
                (request.method, request.body) = (.DELETE, [])
                request.headers.remove(name: "content-type")
                _ = try await sendSmall(request, to: deployment)
                return
            } catch {
                guard error.status != 404 else { return }
                guard !error.isRetryable else { throw error }
                (problem["status"], problem["error_type"]) = ("\(error.status)", "\(error.errorType)")
            }
        } else {
            problem["error_type"] = "deployment_not_configured"
        }
        logger.warning("a deleted response could not be deleted at its provider", metadata: problem)
    }

    /// `DELETE /v1/responses/{id}`: deletes a kept response at the native deployment that
    /// answered it, then forgets it (its continuations with it). When the provider fails in a way
    /// a retry may pass (a timeout, a 429, a 5xx), that error is the answer and the gateway keeps
    /// its copy, so that the client can try again; any other failure (a revoked provider key, a
    /// deployment no longer configured) the client could never get past: it is logged, and the
    /// gateway's copy is deleted.
    public func deleteStoredResponse(id: String, headers: HTTPFields, route: String) async -> GatewayReply {
        do throws(GatewayError) {
            let principal = try await authenticator.authenticate(headers, route: route)
            guard let stored = await responseStore.get(id, owner: principal.responseOwner) else {
                throw Self.responseNotFound(id)
            }
            if stored.native { try await deleteAtProvider(stored) }
            guard try await responseStore.delete(id, owner: principal.responseOwner) else {
                throw Self.responseNotFound(id)
            }
        } catch {
            return GatewayReply(error)
        }
        let body: JSONValue = .object(["id": .string(id), "object": "response", "deleted": .bool(true)])
        return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(body.encoded()))
    }

    /// OpenAI's answer to a `previous_response_id` it does not have.
    static func previousResponseNotFound(_ id: String) -> GatewayError {
        .invalidRequest(
            "Previous response with id '\(id)' not found.", param: "previous_response_id", code: "previous_response_not_found")
    }

    static func responseNotFound(_ id: String) -> GatewayError {
        var error = GatewayError.notFound("Response with id '\(id)' not found.")
        error.param = "response_id"
        return error
    }

    /// An audio upload (`/v1/audio/transcriptions`, `/translations`): the multipart body is read
    /// once, size-limited, and forwarded as slices of itself with the deployment's model.
    public func proxyUpload(
        _ operation: OpenAIRequest.Operation, headers: HTTPFields, route: String,
        body: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        await modelRegistry.ensureLoaded()
        let contentType = headers[.contentType] ?? ""
        return await flow.run(operation, headers: headers, route: route, body: body) { view throws(GatewayError) in
            // A view's buffer is the body itself: the form's parts are slices of it.
            try OpenAIRequest(operation: operation, form: MultipartForm(body: ByteBuffer(view), contentType: contentType))
        }
    }
}
