import HTTPTypes
import Telemetry

extension Gateway {
    /// `GET /v1/models`: the model groups the caller may use, config and stored models alike, by
    /// the rule that admits requests (`Principal.allows`): its key's, team's, user's and
    /// organisation's allow-lists and model access groups. As in LiteLLM 1.108.7 (proxy_server.py
    /// `model_list`, auth/model_checks.py `get_complete_model_list`): `include_model_access_groups`
    /// adds the names of the access groups the caller is granted, and `only_model_access_groups`
    /// keeps those names alone (so it lists nothing without `include_model_access_groups`).
    public func models(
        headers: HTTPFields, route: String, includeAccessGroups: Bool = false, onlyAccessGroups: Bool = false
    ) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers, route: route)
        } catch {
            return GatewayReply(error)
        }
        let snapshot = router.deploymentSet.snapshot
        var names: [String] = []
        if !onlyAccessGroups {
            names = snapshot.names.filter { principal.allows($0) }
        }
        if includeAccessGroups {
            let groups = snapshot.accessGroups.keys.sorted().filter { name in
                !snapshot.names.contains(name) && principal.allowsAccessGroup(name)
            }
            names += groups
        }
        let data = names.map { name -> JSONValue in
            .object(["id": .string(name), "object": "model", "created": .int(startedAt), "owned_by": "spanway"])
        }
        return GatewayReply(
            status: 200, headers: [("content-type", "application/json")],
            body: .bytes(JSONValue.object(["object": "list", "data": .array(data)]).encoded()))
    }

    /// `GET /v1/models/{id}`: one model group as OpenAI's retrieve-model answers it, or a 404
    /// naming it; a caller sees only the groups it may use.
    public func model(id: String, headers: HTTPFields, route: String) async -> GatewayReply {
        let principal: Principal
        do {
            principal = try await authenticator.authenticate(headers, route: route)
        } catch {
            return GatewayReply(error)
        }
        guard principal.allows(id), router.modelGroups.contains(id) else {
            return GatewayReply(
                GatewayError(.modelNotFound, "The model '\(id)' does not exist or is not configured on this gateway."))
        }
        let body: JSONValue = .object([
            "id": .string(id), "object": "model", "created": .int(startedAt), "owned_by": "spanway",
        ])
        return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(body.encoded()))
    }
}
