import HTTPTypes
import Store

extension VirtualKey {
    /// LiteLLM's route groups (litellm 1.108.7, `LiteLLMRoutes`) a key's `allowed_routes` may name,
    /// with the routes of each that Spanway serves.
    static let routeGroups: [String: Set<String>] = {
        let endpoints = [
            "/chat/completions", "/embeddings", "/responses", "/responses/{response_id}",
            "/responses/{response_id}/input_items", "/responses/input_tokens", "/completions",
            "/images/generations", "/audio/speech", "/audio/transcriptions", "/audio/translations", "/rerank", "/moderations",
            "/models",
        ]
        let azure = ["/chat/completions", "/embeddings", "/completions", "/images/generations"].map {
            "/openai/deployments/{deployment}" + $0
        }
        let openAI = Set(endpoints + endpoints.map { "/v1" + $0 } + azure + ["/v2/rerank"])
        let anthropic: Set<String> = ["/v1/messages", "/messages", "/v1/messages/count_tokens", "/messages/count_tokens"]
        let modelInfo: Set<String> = ["/model/info", "/v1/model/info", "/model_group/info"]
        let info: Set<String> = [
            "/key/info", "/team/info", "/team/list", "/organization/list", "/user/info", "/model/info",
            "/v1/model/info", "/model_group/info", "/health", "/key/list", "/models", "/v1/models",
        ]
        return [
            "openai_routes": openAI, "anthropic_routes": anthropic, "model_info_routes": modelInfo,
            "llm_api_routes": openAI.union(anthropic).union(modelInfo), "info_routes": info,
        ]
    }()

    /// Whether `allowed_routes` lets the key call `route`, as LiteLLM decides it: no list allows
    /// everything the key could call anyway; an entry allows its exact route and the routes below
    /// it (`/a` allows `/a/b`), a trailing `*` is a prefix, and a group name allows its routes.
    public func allows(route: String) -> Bool {
        guard !allowedRoutes.isEmpty else { return true }
        return allowedRoutes.contains { allowed in
            if route == allowed || route.hasPrefix(allowed + "/") { return true }
            if allowed.hasSuffix("*") { return route.hasPrefix(allowed.dropLast()) }
            return Self.routeGroups[allowed]?.contains(route) ?? false
        }
    }

    /// Refuses a route the key's `allowed_routes` leaves out, in LiteLLM's words.
    func requireRoute(_ route: String) throws(GatewayError) {
        guard allows(route: route) else {
            let list = "[" + allowedRoutes.map { "'\($0)'" }.joined(separator: ", ") + "]"
            throw .permissionDenied(
                "Virtual key is not allowed to call this route. Only allowed to call routes: \(list). Tried to call route: \(route)"
            )
        }
    }
}

extension Authenticator {
    /// As `authenticate`, then refused when the caller is a virtual key whose `allowed_routes`
    /// leave out `route`: every route a virtual key may call authenticates through here.
    func authenticate(_ headers: HTTPFields, route: String) async throws(GatewayError) -> Principal {
        let principal = try await authenticate(headers)
        try principal.key?.requireRoute(route)
        return principal
    }
}
