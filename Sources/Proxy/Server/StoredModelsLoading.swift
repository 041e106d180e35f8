import Hummingbird

/// Holds every request until the gateway has read the models kept in its store (once, at the
/// first request): a restarted replica must not answer 404 for a model the admin API added.
struct StoredModelsLoading<Context: RequestContext>: RouterMiddleware {
    let registry: ModelRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        await registry.ensureLoaded()
        return try await next(request, context)
    }
}
