import Hummingbird

/// Holds requests until the gateway has read the models kept in its store (once, at the first
/// request, for at most `ModelRegistry.firstLoadWait`): a restarted replica must not answer 404
/// for a model the admin API added. Health and metrics never wait on the store for this.
struct StoredModelsLoading<Context: RequestContext>: RouterMiddleware {
    let registry: ModelRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if !Self.exempt(request.uri.path) { await registry.ensureLoaded() }
        return try await next(request, context)
    }

    /// Liveness, readiness and scrapes answer about the process as it is.
    static func exempt(_ path: String) -> Bool {
        path == "/metrics" || path == "/health" || path.hasPrefix("/health/")
    }
}
