import HTTPTypes
import NIOCore
import Telemetry

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
    /// gateway keeps for the caller. Counted here, as `PromptCounter` counts a prompt (OpenAI
    /// models with their BPE encoding, others with the bytes ÷ 4 estimate), over the request in
    /// chat form: what a chat provider is sent. The header `x-spanway-token-count` says
    /// `tokenizer` only for such a count; a deployment that takes the Responses API natively
    /// (OpenAI, Azure) frames it its own way, so its count is `estimated`. Counting is free: it
    /// is not rate-limited, charged or traced as a model call.
    public func responsesInputTokens(
        headers: HTTPFields, route: String, body readBody: () async throws(GatewayError) -> ByteBuffer
    ) async -> GatewayReply {
        do throws(GatewayError) {
            let counted = try await countingRequest(headers: headers, route: route, body: readBody)
            let deployment = counted.deployment
            var body = counted.body
            var history: [JSONValue] = []
            if let previousID = body["previous_response_id"]?.stringValue {
                guard let previous = await responseStore.get(previousID, owner: counted.principal.responseOwner) else {
                    throw Self.previousResponseNotFound(previousID)
                }
                history = previous.history
            }
            if body["input"] == nil || body["input"] == .null { body["input"] = .array([]) }
            let native = deployment.adapter.serving(.responses) == .native
            let prompt = try ResponsesInbound.countedPrompt(body, history: history, skippingUnsupported: native)
            let prompts = flow.attempts.prompts
            let tally = prompts.inputTokens(prompt, tokenizer: prompts.tokenizer(for: deployment.config))
            let answer: JSONValue = .object(["object": "response.input_tokens", "input_tokens": .int(tally.tokens)])
            return GatewayReply(
                status: 200,
                headers: [
                    ("content-type", "application/json"), ("x-spanway-model-group", counted.group),
                    ("x-spanway-token-count", tally.estimated || native ? "estimated" : "tokenizer"),
                ],
                body: .bytes(answer.encoded()))
        } catch {
            return GatewayReply(error)
        }
    }

    /// `DELETE /v1/responses/{id}`: forgets a kept response (its continuations with it).
    public func deleteStoredResponse(id: String, headers: HTTPFields, route: String) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers, route: route)
        } catch {
            return GatewayReply(error)
        }
        guard await responseStore.delete(id, owner: principal.responseOwner) else {
            return GatewayReply(Self.responseNotFound(id))
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
