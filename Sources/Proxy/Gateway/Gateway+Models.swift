import HTTPTypes
import Telemetry

extension Gateway {
    /// `GET /v1/models/{id}`: one configured model group as OpenAI's retrieve-model answers it, or
    /// a 404 naming it; a key sees only the groups it may use.
    public func model(id: String, headers: HTTPFields) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers)
        } catch {
            return GatewayReply(error)
        }
        let allowed = principal.key.map { $0.limits.models.isEmpty || $0.limits.models.contains(id) } ?? true
        guard allowed, config.modelGroups.contains(id) else {
            return GatewayReply(
                GatewayError(.modelNotFound, "The model '\(id)' does not exist or is not configured on this gateway."))
        }
        let body: JSONValue = .object([
            "id": .string(id), "object": "model", "created": .int(startedAt), "owned_by": "spanway",
        ])
        return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(body.encoded()))
    }
}
