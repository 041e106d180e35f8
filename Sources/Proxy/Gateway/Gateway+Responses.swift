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
