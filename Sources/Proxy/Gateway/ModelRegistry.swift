import Logging
import Sinks
import Store
import Synchronization
import Telemetry

/// The gateway's deployments: the config's, which never change, and the models added through the
/// admin API, kept in the store. Every replica loads the stored ones before its first request and
/// again whenever one changes anywhere (`StoreChange.models`, published through Redis), then
/// swaps the router's `DeploymentSet` in one step.
final class ModelRegistry: Sendable {
    let configured: [Deployment]
    let set: DeploymentSet
    let factory: DeploymentFactory?
    let store: CachedStore?
    let secrets: ModelSecrets?
    let logger: Logger
    /// Told the deployments served after each change, for what keeps its own list of them
    /// (LiteLLM's Prometheus labels, usage shared between replicas).
    let served: @Sendable ([Deployment]) -> Void

    private struct State {
        /// Stored models as last read or written, by id.
        var stored: [String: StoredModel] = [:]
        /// Each reload or local change takes a ticket before it reads; only a later ticket than
        /// the last applied one may apply, so a slow read never undoes a newer change.
        var nextTicket = 0
        var applied = -1
        var loading: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let loaded = Atomic<Bool>(false)

    init(
        configured: [Deployment], set: DeploymentSet, factory: DeploymentFactory?, store: CachedStore?,
        secrets: ModelSecrets?, logger: Logger, served: @escaping @Sendable ([Deployment]) -> Void
    ) {
        self.configured = configured
        self.set = set
        self.factory = factory
        self.store = store
        self.secrets = secrets
        self.logger = logger
        self.served = served
        store?.observeInvalidations { [weak self] change in
            guard change == .models || change == .all, let self else { return }
            // `invalidate` is synchronous and runs on the subscription loop, which must not wait
            // on a database read.
            Task { await self.reload() }
        }
    }

    /// Whether model changes can be kept (a store and a way to build deployments).
    var canStore: Bool { store != nil && factory != nil }

    /// The stored models as last read, by id.
    var stored: [String: StoredModel] { state.withLock { $0.stored } }

    /// How long requests wait for the first read of the stored models before they are served
    /// from the config's alone: a store that does not answer must not hold every request. The
    /// read goes on, and its models are served once it lands.
    static let firstLoadWait: Duration = .seconds(5)

    /// Loads the stored models once; later calls return at once. Requests wait for it (at most
    /// `firstLoadWait`), so a restarted gateway never answers 404 for a model it keeps.
    func ensureLoaded() async {
        if loaded.load(ordering: .acquiring) { return }
        let task = state.withLock { state in
            if let loading = state.loading { return loading }
            let task = Task {
                // A store that cannot be read must not stop the config's models from being
                // served: requests go on, and the read is retried in the background.
                if await !self.reload() { self.retryUntilLoaded() }
            }
            state.loading = task
            return task
        }
        let timer = Task { try? await Task.sleep(for: Self.firstLoadWait) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = FirstResume(continuation)
            Task {
                await task.value
                waiting.resume()
            }
            Task {
                await timer.value
                waiting.resume()
            }
        }
        timer.cancel()
        loaded.store(true, ordering: .releasing)
    }

    private func retryUntilLoaded() {
        Task {
            var pause = Duration.seconds(1)
            repeat {
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
            } while await !reload()
        }
    }

    /// Reads the stored models and serves them with the config's; false when the store could not
    /// be read (logged), which keeps what is served.
    @discardableResult
    func reload() async -> Bool {
        guard let store, factory != nil else { return true }
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        let models: [StoredModel]
        do {
            models = try await store.storedModels()
        } catch {
            logger.warning("could not read the stored models; serving those read before")
            return false
        }
        state.withLock { state in
            guard ticket > state.applied else { return }
            state.applied = ticket
            state.stored = Dictionary(models.map { ($0.modelID, $0) }) { $1 }
            rebuild(state.stored)
        }
        return true
    }

    /// Serves a change this process just wrote (`nil` model: deleted), without reading back.
    func applied(_ model: StoredModel?, id: String) {
        state.withLock { state in
            state.applied = state.nextTicket
            state.nextTicket += 1
            state.stored[id] = model
            rebuild(state.stored)
        }
    }

    private func rebuild(_ stored: [String: StoredModel]) {
        let ordered = stored.values.sorted { ($0.createdAt, $0.modelID) < ($1.createdAt, $1.modelID) }
        let built = ordered.compactMap { model -> Deployment? in
            switch deployment(of: model) {
            case .success(let deployment): return deployment
            case .failure(let issue):
                // The issue names a field and, at most, an environment variable: never a value.
                logger.warning(
                    "a stored model cannot be served; it is skipped",
                    metadata: ["model_id": "\(model.modelID)", "problem": "\(issue.path): \(issue.message)"])
                return nil
            }
        }
        set.replace(with: configured + built)
        served(configured + built)
    }

    /// A stored model made ready to call, its credentials opened.
    func deployment(of model: StoredModel) -> Result<Deployment, ConfigIssue> {
        guard let factory else { return .failure(ConfigIssue(.error, "", "models cannot be built here")) }
        guard let params = Self.object(model.litellmParams), let info = Self.object(model.modelInfo) else {
            return .failure(ConfigIssue(.error, "", "the stored row is not JSON"))
        }
        var opened = params
        if params.members.contains(where: { $0.value.stringValue?.hasPrefix(ModelSecrets.prefix) ?? false })
            || params["extra_headers"] != nil
        {
            guard let secrets, case .success(let plain) = secrets.opening(params) else {
                return .failure(
                    ConfigIssue(
                        .error, "litellm_params",
                        "its credentials were sealed under another salt or master key (SPANWAY_SALT_KEY, LITELLM_SALT_KEY)"
                    ))
            }
            opened = plain
        }
        let entry: JSONObject = [
            "model_name": .string(model.modelName), "litellm_params": .object(opened), "model_info": .object(info),
        ]
        switch factory.deployment(fromJSON: entry) {
        case .failure(let issue): return .failure(issue)
        case .success(let config):
            guard var deployment = factory.make(config) else {
                return .failure(ConfigIssue(.error, "litellm_params.model", "no adapter for '\(config.provider)'"))
            }
            deployment.isStored = true
            return .success(deployment)
        }
    }

    static func object(_ text: String) -> JSONObject? {
        (try? JSONParser.parse(Array(text.utf8)))?.objectValue
    }
}

/// A continuation resumed by whichever of several tasks comes first; the others do nothing.
private final class FirstResume: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }

    func resume() { continuation.withLock { $0.take() }?.resume() }
}

extension LiteLLMMetrics.Deployment {
    /// The labels LiteLLM's Prometheus series give a deployment.
    init(_ deployment: Proxy.Deployment) {
        self.init(
            id: deployment.config.id, modelGroup: deployment.config.modelName, model: deployment.config.model,
            provider: deployment.config.provider, apiBase: deployment.apiBase)
    }
}
