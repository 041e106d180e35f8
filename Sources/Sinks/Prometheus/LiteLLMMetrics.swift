import Synchronization
import Telemetry

/// LiteLLM's Prometheus series (`spanway_settings.prometheus_names: [spanway, litellm]`), made
/// from the same finished requests and scrape-time figures as Spanway's own, so that a LiteLLM
/// Grafana dashboard or alert works unchanged. Label values follow LiteLLM's conventions: a
/// missing value is the string `None`, `hashed_api_key` is the SHA-256 (hex) of the key and
/// `litellm_proxy_master_key` for the master key, `model` is the deployment's model without its
/// provider prefix, `requested_model` the name the client sent.
///
/// Only made when the setting asks for it: without it the request path does not reach here.
public final class LiteLLMMetrics: Sendable {
    /// A configured deployment, for the labels LiteLLM gives deployments.
    public struct Deployment: Sendable {
        public var id: String
        public var modelGroup: String
        /// The upstream model, without the provider prefix.
        public var model: String
        /// LiteLLM's provider name (`openai`, `anthropic`, `azure`).
        public var provider: String
        public var apiBase: String?

        public init(id: String, modelGroup: String, model: String, provider: String, apiBase: String?) {
            self.id = id
            self.modelGroup = modelGroup
            self.model = model
            self.provider = provider
            self.apiBase = apiBase
        }
    }

    /// A key's or team's budget at scrape time. LiteLLM labels a key by its digest and alias, a
    /// team by its id and alias.
    public struct Budget: Sendable, Equatable {
        public enum Scope: Sendable { case key, team }
        public var scope: Scope
        /// The key's SHA-256 (hex), or the team's id.
        public var id: String
        public var alias: String?
        public var maxBudget: Double?
        public var spend: Double

        public init(scope: Scope, id: String, alias: String?, maxBudget: Double?, spend: Double) {
            self.scope = scope
            self.id = id
            self.alias = alias
            self.maxBudget = maxBudget
            self.spend = spend
        }
    }

    private struct State {
        var registry: LiteLLMRegistry
        /// Keys and teams seen in traffic: LiteLLM shows their budget gauges (+Inf without a budget).
        var keys: [String: String?] = [:]
        var teams: [String: String?] = [:]
        var endUsers: Set<String> = []
        var requestedModels: Set<String> = []
        /// Whether each deployment's last call failed, and its status then.
        var failing: [String: String] = [:]
        var healthy: Set<String> = []
        /// Cooldowns already counted in `litellm_deployment_cooled_down`.
        var cooldownsCounted: [String: Int] = [:]
        /// The deployments served, in order, and by id: the config's, then those added at run time.
        var ordered: [Deployment] = []
        var deployments: [String: Deployment] = [:]

        mutating func serve(_ served: [Deployment]) {
            ordered = served
            deployments = Dictionary(served.map { ($0.id, $0) }) { first, _ in first }
        }
    }

    /// LiteLLM's value for a missing label.
    static let none = "None"
    static let masterKeyHash = "litellm_proxy_master_key"
    /// How the authenticator names the master key in place of a digest (a real digest is 64 hex digits).
    static let spanwayMasterKey = "master"

    /// Distinct `end_user` and `requested_model` values kept before new ones read `None`:
    /// clients choose these, and LiteLLM bounds neither.
    let valueLimit: Int
    private let state: Mutex<State>

    public init(
        deployments: [Deployment], valueLimit: Int = 1000,
        now: @escaping @Sendable () -> Double = { Double(WallClock.nowNanos()) / 1e9 }
    ) {
        self.valueLimit = valueLimit
        var state = State(registry: LiteLLMRegistry(now: now))
        state.serve(deployments)
        self.state = Mutex(state)
    }

    /// The deployments served now, when models are added or removed at run time.
    public func serve(_ deployments: [Deployment]) {
        state.withLock { $0.serve(deployments) }
    }

    // MARK: - Feeding

    /// LiteLLM's fallback counters for a configured fallback, at 0 before the first one happens.
    public func declareFallback(from: String, to: String) {
        state.withLock { state in
            for metric in [LiteLLMMetric.deploymentSuccessfulFallbacks, .deploymentFailedFallbacks] {
                let labels = Self.values(metric, ["requested_model": from, "fallback_model": to])
                state.registry.increment(metric, labels, by: 0)
            }
        }
    }

    public func observe(_ span: FinishedSpan) {
        let s = span.summary
        let caller = s.caller
        let isMaster = caller.keyHash == Self.spanwayMasterKey
        var labels: [String: String] = [
            "hashed_api_key": isMaster ? Self.masterKeyHash : caller.keyHash ?? Self.none,
            "api_key_alias": isMaster ? Self.none : caller.keyAlias ?? Self.none,
            "team": caller.teamID ?? Self.none,
            "team_alias": caller.teamAlias ?? Self.none,
            "user": isMaster ? "default_user_id" : caller.userID ?? Self.none,
            "org_id": caller.orgID ?? Self.none,
            "status_code": String(s.statusCode),
            "route": Self.text(span.server.attributes[AttributeName.httpRoute]) ?? Self.none,
            "model_group": s.modelGroup ?? Self.none,
            "model_id": s.deploymentID ?? Self.none,
        ]
        state.withLock { state in
            let answering = s.deploymentID.flatMap { state.deployments[$0] }
            labels["model"] = answering?.model ?? Self.none
            labels["litellm_model_name"] = answering?.model ?? Self.none
            labels["api_provider"] = answering?.provider ?? s.provider ?? Self.none
            labels["api_base"] = answering?.apiBase ?? s.apiBase ?? Self.none
            labels["end_user"] = Self.admit(s.endUser, into: &state.endUsers, limit: valueLimit)
            labels["requested_model"] = Self.admit(s.requestModel, into: &state.requestedModels, limit: valueLimit)
            if let hash = caller.keyHash {
                state.keys[isMaster ? Self.masterKeyHash : hash] = .some(isMaster ? nil : caller.keyAlias)
            }
            if let team = caller.teamID { state.teams[team] = .some(caller.teamAlias) }
            record(span, labels: labels, into: &state)
        }
    }

    private func record(_ span: FinishedSpan, labels: [String: String], into state: inout State) {
        let s = span.summary
        var labels = labels
        state.registry.increment(.proxyTotalRequests, Self.values(.proxyTotalRequests, labels))
        if s.succeeded {
            state.registry.increment(.requests, Self.values(.requests, labels))
            state.registry.increment(.spend, Self.values(.spend, labels), by: s.costUSD ?? 0)
            if let usage = s.usage {
                state.registry.increment(
                    .totalTokens, Self.values(.totalTokens, labels), by: Double(usage.inputTokens + usage.outputTokens))
                state.registry.increment(.inputTokens, Self.values(.inputTokens, labels), by: Double(usage.inputTokens))
                state.registry.increment(.outputTokens, Self.values(.outputTokens, labels), by: Double(usage.outputTokens))
            }
            state.registry.observe(.requestTotalLatency, Self.values(.requestTotalLatency, labels), s.durationSeconds)
            if let answer = span.answering {
                let seconds = Double(answer.endNanos &- answer.startNanos) / 1e9
                state.registry.observe(.llmAPILatency, Self.values(.llmAPILatency, labels), seconds)
            }
            if s.stream, let ttft = s.timeToFirstChunkSeconds {
                state.registry.observe(.llmAPITimeToFirstToken, Self.values(.llmAPITimeToFirstToken, labels), ttft)
            }
            state.registry.observe(.overheadLatency, Self.values(.overheadLatency, labels), s.overheadSeconds)
        } else {
            labels["exception_status"] = String(s.statusCode)
            labels["exception_class"] = Self.exceptionClass(
                status: s.statusCode, errorType: s.errorType, provider: s.provider == nil ? nil : labels["api_provider"])
            state.registry.increment(.proxyFailedRequests, Self.values(.proxyFailedRequests, labels))
        }
        recordAttempts(span, labels: labels, into: &state)
    }

    /// The deployment series, one call at a time, and the fallbacks the calls show: each model
    /// group after the first one tried is a fallback, successful when it answered.
    private func recordAttempts(_ span: FinishedSpan, labels: [String: String], into state: inout State) {
        var firstFailure: (status: String, exceptionClass: String)?
        var groups: [(group: String, succeeded: Bool, deployment: String?)] = []
        for attempt in span.attempts {
            let id = Self.text(attempt.attributes[AttributeName.deploymentID])
            let deployment = id.flatMap { state.deployments[$0] }
            let group = Self.text(attempt.attributes[AttributeName.modelGroup]) ?? labels["model_group"] ?? Self.none
            var call = labels
            call["model_group"] = group
            call["litellm_model_name"] = deployment?.model ?? Self.none
            call["model"] = deployment?.model ?? Self.none
            call["model_id"] = id ?? Self.none
            call["api_base"] = deployment?.apiBase ?? Self.none
            call["api_provider"] = deployment?.provider ?? Self.none
            let succeeded = attempt.status == .ok
            state.registry.increment(.deploymentTotalRequests, Self.values(.deploymentTotalRequests, call))
            if succeeded {
                state.registry.increment(.deploymentSuccessResponses, Self.values(.deploymentSuccessResponses, call))
                if let id {
                    state.failing[id] = nil
                    state.healthy.insert(id)
                }
            } else {
                var status = 0
                if case .int(let code) = attempt.attributes[AttributeName.httpResponseStatusCode] { status = Int(code) }
                call["exception_status"] = String(status)
                call["exception_class"] = Self.exceptionClass(
                    status: status, errorType: Self.text(attempt.attributes[AttributeName.errorType]),
                    provider: deployment?.provider)
                state.registry.increment(.deploymentFailureResponses, Self.values(.deploymentFailureResponses, call))
                state.registry.increment(.llmAPIFailedRequests, Self.values(.llmAPIFailedRequests, call))
                if let id { state.failing[id] = String(status) }
                if firstFailure == nil, let status = call["exception_status"], let name = call["exception_class"] {
                    firstFailure = (status, name)
                }
            }
            if let index = groups.firstIndex(where: { $0.group == group }) {
                if succeeded { groups[index] = (group, true, id) }
            } else {
                groups.append((group, succeeded, id))
            }
        }
        var requested = groups.first?.group
        var fallbacks = groups.dropFirst()
        // Every deployment of the requested group was cooling down: no call was made to it, and
        // the first call was already a fallback's (LiteLLM's `RouterRateLimitError`, a 429).
        if case .int(let depth) = span.attempts.first?.attributes[AttributeName.fallbackDepth], depth > 0 {
            requested = span.summary.requestModel
            fallbacks = groups[...]
            firstFailure = ("429", "RouterRateLimitError")
        }
        guard let requested, let firstFailure else { return }
        for fallback in fallbacks {
            var values = labels
            values["requested_model"] = requested
            values["fallback_model"] = fallback.group
            values["exception_status"] = firstFailure.status
            values["exception_class"] = firstFailure.exceptionClass
            values["model_id"] = fallback.succeeded ? fallback.deployment ?? Self.none : Self.none
            let metric: LiteLLMMetric = fallback.succeeded ? .deploymentSuccessfulFallbacks : .deploymentFailedFallbacks
            state.registry.increment(metric, Self.values(metric, values))
        }
    }

    // MARK: - Reading

    /// The exposition, with the scrape-time gauges set from `deployments` (cooldowns), `budgets`
    /// and `inFlight`. `created`: with the `_created` gauges `prometheus_client` writes in the
    /// text format.
    public func render(
        deployments figures: [PrometheusSink.DeploymentFigure], budgets: [Budget], inFlight: Int?, created: Bool = true
    ) -> String {
        let cooling = Dictionary(figures.map { ($0.deployment, $0) }) { first, _ in first }
        return state.withLock { state in
            if let inFlight { state.registry.set(.inFlightRequests, [], to: Double(inFlight)) }
            state.registry.clear(.deploymentState)
            for deployment in state.ordered {
                let figure = cooling[deployment.id]
                let labels = Self.values(
                    .deploymentState,
                    [
                        "litellm_model_name": deployment.model, "model_id": deployment.id,
                        "api_base": deployment.apiBase ?? Self.none, "api_provider": deployment.provider,
                    ])
                // 2: cooling down (a complete outage to the router), 1: its last call failed, 0: healthy.
                let value = figure?.coolingDown == true ? 2.0 : state.failing[deployment.id] != nil ? 1.0 : 0.0
                state.registry.set(.deploymentState, labels, to: value)
                let counted = state.cooldownsCounted[deployment.id] ?? 0
                if let figure, figure.cooldowns > counted {
                    var values = labels
                    values.append(state.failing[deployment.id] ?? Self.none)
                    state.registry.increment(.deploymentCooledDown, values, by: Double(figure.cooldowns - counted))
                    state.cooldownsCounted[deployment.id] = figure.cooldowns
                }
            }
            setBudgets(budgets, in: &state)
            return state.registry.render(created: created)
        }
    }

    private func setBudgets(_ budgets: [Budget], in state: inout State) {
        for metric in [LiteLLMMetric.remainingAPIKeyBudget, .apiKeyMaxBudget, .remainingTeamBudget, .teamMaxBudget] {
            state.registry.clear(metric)
        }
        var keys = state.keys.mapValues { alias in Budget(scope: .key, id: "", alias: alias, maxBudget: nil, spend: 0) }
        var teams = state.teams.mapValues { alias in Budget(scope: .team, id: "", alias: alias, maxBudget: nil, spend: 0) }
        for budget in budgets {
            switch budget.scope {
            case .key: keys[budget.id] = budget
            case .team: teams[budget.id] = budget
            }
        }
        for (id, budget) in keys.sorted(by: { $0.key < $1.key }) {
            let labels = [id, budget.alias ?? Self.none]
            state.registry.set(.remainingAPIKeyBudget, labels, to: budget.maxBudget.map { $0 - budget.spend } ?? .infinity)
            if let max = budget.maxBudget { state.registry.set(.apiKeyMaxBudget, labels, to: max) }
        }
        for (id, budget) in teams.sorted(by: { $0.key < $1.key }) {
            let labels = [id, budget.alias ?? Self.none]
            state.registry.set(.remainingTeamBudget, labels, to: budget.maxBudget.map { $0 - budget.spend } ?? .infinity)
            if let max = budget.maxBudget { state.registry.set(.teamMaxBudget, labels, to: max) }
        }
    }

    // MARK: - Labels

    /// The values of `metric`'s labels, in its order, `None` for any not given.
    static func values(_ metric: LiteLLMMetric, _ labels: [String: String]) -> [String] {
        metric.labelNames.map { labels[$0] ?? none }
    }

    private static func admit(_ value: String?, into seen: inout Set<String>, limit: Int) -> String {
        guard let value else { return none }
        if seen.contains(value) { return value }
        guard seen.count < limit else { return none }
        seen.insert(value)
        return value
    }

    private static func text(_ value: AttributeValue?) -> String? {
        guard case .string(let text) = value else { return nil }
        return text
    }

    /// LiteLLM's `exception_class`: the provider, capitalised, then the exception LiteLLM raises
    /// for the status (`Openai.RateLimitError`); failures of the proxy itself carry no provider
    /// (`HTTPException` for its 429s, `BudgetExceededError`, else `ProxyException`).
    static func exceptionClass(status: Int, errorType: String?, provider: String?) -> String {
        let type = errorType ?? ""
        guard let provider, !provider.isEmpty else {
            if type == "budget_exceeded" { return "BudgetExceededError" }
            return status == 429 ? "HTTPException" : "ProxyException"
        }
        let name: String
        switch status {
        case 400 where type.contains("context"): name = "ContextWindowExceededError"
        case 400 where type.contains("content_policy") || type.contains("content_filter"):
            name = "ContentPolicyViolationError"
        case 400: name = "BadRequestError"
        case 401: name = "AuthenticationError"
        case 403: name = "PermissionDeniedError"
        case 404: name = "NotFoundError"
        case 408, 504: name = "Timeout"
        case 422: name = "UnprocessableEntityError"
        case 429: name = "RateLimitError"
        case _ where type == "connection_error" || type == "invalid_url": name = "APIConnectionError"
        case 500: name = "InternalServerError"
        case 502: name = "BadGatewayError"
        case 503: name = "ServiceUnavailableError"
        default: name = "APIError"
        }
        return provider.prefix(1).uppercased() + provider.dropFirst() + "." + name
    }
}
